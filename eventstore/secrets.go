package eventstore

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Secrets holds the installation-wide secrets (table instance_secrets).
type Secrets struct {
	pool *pgxpool.Pool
}

// InstanceSecret returns the installation-wide secret called name, creating
// it with size random bytes on first use. Every replica gets the same bytes:
// racing first calls insert once and all read the winner.
func (s *Secrets) InstanceSecret(ctx context.Context, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("instance secret %s: %w", name, err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO instance_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, fresh); err != nil {
		return nil, fmt.Errorf("instance secret %s: %w", name, err)
	}
	var secret []byte
	if err := s.pool.QueryRow(ctx, `SELECT secret FROM instance_secrets WHERE name = $1`, name).Scan(&secret); err != nil {
		return nil, fmt.Errorf("instance secret %s: %w", name, err)
	}
	return secret, nil
}
