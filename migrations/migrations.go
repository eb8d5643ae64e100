// Package migrations holds the forward-only SQL migrations of the goodplan
// database, embedded in the binary and applied with tern on start and by
// `goodplan migrate`.
package migrations

import "embed"

// FS holds the numbered migration files (001_name.sql, 002_name.sql, ...).
//
//go:embed *.sql
var FS embed.FS
