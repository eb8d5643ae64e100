package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// layer is one top-level folder of goodplan and what its packages may
// import (STYLE.md, "Who imports whom"). A folder's test-support packages
// (eventstore/pgtest, domain/domaintest) belong to its layer.
type layer struct {
	// layers are the other layers it may import; its own is always allowed.
	layers []string
	// modules are the modules outside the standard library it may import.
	// A layer that may import domain may also import domain's modules
	// (apd, uuid): the domain's types are made of them.
	modules []string
	// anything: every layer (but cmd and bench) and every module.
	anything bool
}

// Module paths named by the rules.
const (
	modAPD        = "github.com/cockroachdb/apd/v3"
	modUUID       = "github.com/google/uuid"
	modPgx        = "github.com/jackc/pgx/v5"
	modTern       = "github.com/jackc/tern/v2"
	modNATS       = "github.com/nats-io/nats.go"
	modNATSServer = "github.com/nats-io/nats-server/v2"
	modGoMail     = "github.com/wneessen/go-mail"
	modChi        = "github.com/go-chi/chi/v5"
	// modXCrypto gives eventstore argon2id, for the dashboard users'
	// password hashes, which only the store reads.
	modXCrypto = "golang.org/x/crypto"
	// The metrics and traces of each layer (issue 13): its series are
	// defined where they are counted, registered on serve's registry; the
	// API and the workers continue the request's trace.
	modPrometheus = "github.com/prometheus/client_golang"
	modOTel       = "go.opentelemetry.io/otel"
	modOTelTrace  = "go.opentelemetry.io/otel/trace"
	modOTelSDK    = "go.opentelemetry.io/otel/sdk"
)

// layers holds the arrows, keyed by the folder under the module root. A
// package in a folder that is not listed fails the test: a new folder
// needs its place in the rule first.
var layers = map[string]layer{
	"domain":     {modules: []string{modAPD, modUUID}},
	"templates":  {},
	"migrations": {}, // embedded SQL files, read by eventstore
	"eventstore": {layers: []string{"domain", "migrations"}, modules: []string{modPgx, modTern, modXCrypto, modPrometheus}},
	"projections": {layers: []string{"domain", "eventstore"},
		modules: []string{modPgx}},
	// The embedded broker (nats-server) is NATS's as much as nats.go is:
	// DESIGN.md runs it in-process when NATS_URL is empty.
	"workers": {layers: []string{"domain", "eventstore", "projections", "templates"},
		modules: []string{modNATS, modNATSServer, modGoMail, modPrometheus, modOTel, modOTelTrace}},
	"api": {layers: []string{"domain", "eventstore", "projections", "templates"},
		modules: []string{modChi, modPrometheus, modOTel, modOTelTrace, modOTelSDK}},
	"cmd/goodplan": {anything: true},
	// bench/ is tooling (DESIGN.md): like cmd, it may drive everything.
	"bench": {anything: true},
}

// pendingExceptions are imports that break the arrows today, each with the
// change that removes it. The test fails once one is no longer needed, so
// that its line goes too.
var pendingExceptions = map[[2]string]string{}

// TestLayersImportOnlyDownward fails when a goodplan package (tests aside)
// imports a package of a layer above it or a module its layer may not
// use, per the arrows of STYLE.md:
//
//	domain       -> stdlib, apd, uuid
//	templates    -> stdlib
//	eventstore   -> domain, pgx (and migrations, tern, x/crypto's argon2)
//	projections  -> domain, eventstore, pgx
//	workers      -> domain, eventstore, projections, templates, nats.go, go-mail
//	api          -> domain, eventstore, projections, templates, chi
//	(and the Prometheus client in eventstore, workers and api; OpenTelemetry
//	in workers and api)
//	cmd/goodplan -> everything; nothing imports cmd
//
// Tests may cross layers (a workers property test drives the API); the
// domain's tests may not, which domain/imports_test.go checks.
func TestLayersImportOnlyDownward(t *testing.T) {
	t.Parallel()
	pkgs, order := goList(t, "goodplan/...")
	used := map[[2]string]bool{}
	checked := 0
	for _, path := range order {
		p := pkgs[path]
		if p.Module == nil || p.Module.Path != "goodplan" {
			continue
		}
		from, ok := layerOf(path)
		if !ok {
			t.Errorf("%s is in no layer: give its folder a place in the layers of cmd/goodplan/layers_test.go (STYLE.md)", path)
			continue
		}
		checked++
		rule := layers[from]
		for _, imp := range p.Imports {
			dep, ok := pkgs[imp]
			if !ok {
				t.Errorf("%s imports %s, which go list did not describe", path, imp)
				continue
			}
			if dep.Standard {
				continue
			}
			if dep.Module != nil && dep.Module.Path == "goodplan" {
				to, ok := layerOf(imp)
				switch {
				case !ok:
					t.Errorf("%s imports %s, which is in no layer", path, imp)
				case to == "cmd/goodplan" || (to == "bench" && from != "bench"):
					// bench's own tools share bench/internal/cluster.
					t.Errorf("%s imports %s: nothing imports cmd or bench (STYLE.md)", path, imp)
				case to == from || rule.anything || slices.Contains(rule.layers, to):
				default:
					t.Errorf("%s imports %s: %s may import only %v of goodplan (STYLE.md)", path, imp, from, rule.layers)
				}
				continue
			}
			if dep.Module == nil {
				t.Errorf("%s imports %s, which is in no module", path, imp)
				continue
			}
			mod := dep.Module.Path
			key := [2]string{from, mod}
			switch {
			case rule.anything || slices.Contains(modulesOf(from), mod):
			case pendingExceptions[key] != "":
				used[key] = true
			default:
				t.Errorf("%s imports %s: %s may import only the modules %v (STYLE.md)", path, imp, from, modulesOf(from))
			}
		}
	}
	if checked < len(layers) {
		t.Fatalf("go list described %d goodplan packages: fewer than the %d layers", checked, len(layers))
	}
	for key, why := range pendingExceptions {
		if !used[key] {
			t.Errorf("%s no longer imports %s: delete its pending exception (%s)", key[0], key[1], why)
		}
	}
}

// modulesOf returns the modules layer name may import: its own and, if it
// may import domain, domain's.
func modulesOf(name string) []string {
	l := layers[name]
	if name != "domain" && slices.Contains(l.layers, "domain") {
		return append(slices.Clone(l.modules), layers["domain"].modules...)
	}
	return l.modules
}

// layerOf returns the layer of the goodplan package path: the folder under
// the module root (two levels for cmd/).
func layerOf(path string) (string, bool) {
	rel, ok := strings.CutPrefix(path, "goodplan/")
	if !ok {
		return "", false
	}
	for name := range layers {
		if rel == name || strings.HasPrefix(rel, name+"/") {
			return name, true
		}
	}
	return "", false
}

// listedPackage is the part of `go list -json` output the test reads.
type listedPackage struct {
	ImportPath string
	Standard   bool
	Module     *struct{ Path string }
	Imports    []string
}

// goList runs `go list -deps` on patterns and returns the packages by
// import path, and their paths in go list's order.
func goList(t *testing.T, patterns ...string) (map[string]listedPackage, []string) {
	t.Helper()
	args := append([]string{"list", "-deps", "-json=ImportPath,Standard,Module,Imports"}, patterns...)
	out, err := exec.CommandContext(t.Context(), "go", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]listedPackage{}
	var order []string
	for dec := json.NewDecoder(strings.NewReader(string(out))); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
		order = append(order, p.ImportPath)
	}
	return pkgs, order
}
