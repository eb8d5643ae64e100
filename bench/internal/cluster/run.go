package cluster

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
)

// runOut runs bin with args to completion and returns its trimmed stdout;
// on failure the error comes with stderr.
func runOut(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(out.String() + "\n" + errb.String()), err
	}
	return strings.TrimSpace(out.String()), nil
}

// Goodplan runs a goodplan subcommand against the cluster's database and
// returns its stdout.
func (c *Cluster) Goodplan(ctx context.Context, args ...string) (string, error) {
	env := append(append(append([]string{}, envWithout("DATABASE_URL")...), c.Opts.Env...), "DATABASE_URL="+c.Opts.DatabaseURL,
		"NATS_URL="+strings.Join(c.NATSURLs, ","))
	return runOut(ctx, c.Opts.Goodplan, env, args...)
}
