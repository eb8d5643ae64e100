package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runInProcess runs the program in this process with env as its whole
// environment and returns its stdout, stderr and error.
func runInProcess(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// brokenEnv is a configuration loadConfig refuses: help and the version
// must not need one.
var brokenEnv = map[string]string{"PUBLIC_URL": "not a url", "DEAD_LETTER_AFTER": "many"}

// usageFlags returns the --flags the top-level usage names for a command
// line starting with prefix (such as "accounts create").
func usageFlags(t *testing.T, prefix string) []string {
	t.Helper()
	var flags []string
	in := false
	for _, line := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(line, "  goodplan "+prefix+" ") || line == "  goodplan "+prefix:
			in = true
		case strings.HasPrefix(line, "  goodplan "):
			in = false
		}
		if in {
			for _, m := range regexp.MustCompile(`--([a-z-]+)`).FindAllStringSubmatch(line, -1) {
				flags = append(flags, m[1])
			}
		}
	}
	return flags
}

// TestCLIHelp: -h of every command and command group exits 0 and shows
// the flags the usage names, whatever the environment holds.
func TestCLIHelp(t *testing.T) {
	t.Parallel()
	stdout, _, err := runInProcess(t, brokenEnv, "-h")
	if err != nil || !strings.Contains(stdout, "goodplan replay [--swap] [--wait D]") ||
		!strings.Contains(stdout, "Every command but version reads DATABASE_URL") || !strings.Contains(stdout, "goodplan version") {
		t.Fatalf("goodplan -h: %v\n%s", err, stdout)
	}
	for _, group := range []string{"accounts", "apikeys", "users", "deadletters"} {
		for _, h := range []string{"-h", "--help", "help"} {
			stdout, stderr, err := runInProcess(t, brokenEnv, group, h)
			if err != nil || stderr != "" || !strings.Contains(stdout, "Usage of goodplan "+group+":") ||
				!strings.Contains(stdout, "  goodplan "+group+" ") {
				t.Fatalf("goodplan %s %s: %v, want its subcommands on stdout\nstdout:\n%s\nstderr:\n%s", group, h, err, stdout, stderr)
			}
		}
	}
	for _, cmd := range []string{"serve", "migrate", "verify", "replay", "deadletters list", "deadletters retry",
		"deadletters resolve", "accounts create", "accounts update", "apikeys create", "apikeys list",
		"apikeys revoke", "users create"} {
		args := append(strings.Fields(cmd), "-h")
		_, stderr, err := runInProcess(t, nil, args...)
		if err != nil && err.Error() != "flag: help requested" {
			t.Fatalf("goodplan %s -h: %v\n%s", cmd, err, stderr)
		}
		if !strings.HasPrefix(stderr, "Usage: goodplan "+cmd) {
			t.Fatalf("goodplan %s -h printed\n%s", cmd, stderr)
		}
		for _, f := range usageFlags(t, cmd) {
			if !strings.Contains(stderr, "  -"+f+" ") && !strings.Contains(stderr, "  -"+f+"\n") {
				t.Errorf("goodplan %s -h does not list -%s:\n%s", cmd, f, stderr)
			}
		}
	}

	_, stderr, _ := runInProcess(t, nil, "accounts", "create", "-h")
	if !strings.Contains(stderr, "(default unlimited)") || strings.Contains(stderr, "(default -1)") {
		t.Errorf("accounts create -h shows --plan-limit's default as\n%s", stderr)
	}
	if _, _, err := runInProcess(t, nil, "accounts", "create", "--name", "X", "--plan-limit", "-1"); !isUsageError(err) {
		t.Errorf("--plan-limit -1: %v, want a usage error", err)
	}
}

func isUsageError(err error) bool {
	_, ok := err.(usageError)
	return ok
}

// TestServeHelpListsEveryVariable: serve -h lists every environment
// variable loadConfig reads, each with what it does, and the README's
// Configuration table has each one too.
func TestServeHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	names, defaults := configEnv()
	if len(names) < 10 || defaults["HTTP_ADDR"] != "127.0.0.1:8080" {
		t.Fatalf("configEnv: %v %v", names, defaults)
	}
	_, stderr, _ := runInProcess(t, nil, "serve", "-h")
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if envHelp[name] == "" {
			t.Errorf("%s has no line in envHelp (envhelp.go)", name)
		}
		if !strings.Contains(stderr, "\n  "+name+"\n") {
			t.Errorf("serve -h does not list %s:\n%s", name, stderr)
		}
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("README's Configuration table has no row for %s", name)
		}
	}
	if !strings.Contains(stderr, "(default 127.0.0.1:8080)") {
		t.Errorf("serve -h does not show HTTP_ADDR's default:\n%s", stderr)
	}
}

// TestVersion: `goodplan version` and --version print the version, with
// no configuration needed; the binary built without -ldflags says it is
// a development build.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"version", "--version", "-version"} {
		stdout, _, err := runInProcess(t, brokenEnv, arg)
		if err != nil || !strings.HasPrefix(stdout, "goodplan "+versionString()+" (go") {
			t.Fatalf("goodplan %s: %v %q", arg, err, stdout)
		}
	}
	res := runCLI(t, unreachableDB, "--version")
	if res.code != 0 || !regexp.MustCompile(`^goodplan 0\.1\.0-dev(\+[0-9a-f]{12}(-dirty)?)? \(go[^ ]+ [a-z0-9]+/[a-z0-9]+\)\n$`).MatchString(res.stdout) {
		t.Fatalf("goodplan --version: exit %d, stdout %q", res.code, res.stdout)
	}
}
