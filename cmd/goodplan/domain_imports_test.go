package main

import (
	"strings"
	"testing"
)

// domainModules are the only modules outside the standard library that the
// domain, its test support (domain/domaintest) and its tests may import:
// decimal arithmetic and ids. No database, broker, HTTP router or mailer.
var domainModules = map[string]bool{
	"github.com/cockroachdb/apd/v3": true,
	"github.com/google/uuid":        true,
}

// impureStdlib are the standard library packages that would make the domain
// do I/O or wait on something: STYLE.md's "no context, no SQL, no HTTP".
var impureStdlib = map[string]bool{
	"context": true, "database/sql": true, "net": true, "net/http": true, "net/smtp": true,
	"os": true, "os/exec": true, "syscall": true, "io/fs": true,
}

// TestDomainImportsOnlyStdlibApdUUID (here because cmd may import
// anything, and one go list parser serves both checks) enforces STYLE.md's first arrow
// (domain -> stdlib, apd, uuid) on every package under domain/, its tests
// included: each import must be the standard library, apd, uuid or
// another package under domain/.
func TestDomainImportsOnlyStdlibApdUUID(t *testing.T) {
	t.Parallel()
	pkgs, order := goList(t, "-test", "goodplan/domain/...")
	checked := 0
	for _, path := range order {
		if !underDomain(path) {
			continue
		}
		checked++
		for _, imp := range pkgs[path].Imports {
			dep, ok := pkgs[imp]
			switch {
			case !ok:
				t.Errorf("%s imports %s, which go list did not describe", path, imp)
			case impureStdlib[imp] && !strings.HasSuffix(path, ".test"): // the generated test main runs the tests
				t.Errorf("%s imports %s: the domain is pure: no context, SQL, network, files or processes (STYLE.md)", path, imp)
			case dep.Standard, underDomain(imp):
			case dep.Module != nil && domainModules[dep.Module.Path]:
			default:
				t.Errorf("%s imports %s: the domain may import only the standard library, apd and uuid (STYLE.md)", path, imp)
			}
		}
	}
	if checked < 3 { // domain, domaintest, domain's tests at least
		t.Fatalf("go list described %d packages under domain/: the check checked next to nothing", checked)
	}
}

// underDomain reports whether the package go list calls path is under
// domain/: "goodplan/domain [goodplan/domain.test]" is domain recompiled
// with its tests, "goodplan/domain_test" its external tests and
// "goodplan/domain.test" the test binary.
func underDomain(path string) bool {
	path, _, _ = strings.Cut(path, " ")
	path = strings.TrimSuffix(strings.TrimSuffix(path, ".test"), "_test")
	return path == "goodplan/domain" || strings.HasPrefix(path, "goodplan/domain/")
}
