package cluster

import (
	"os"
	"strings"
)

// envWithout is the process environment without the named variables.
func envWithout(names ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || k == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// goodplanVars are the settings the cluster gives each replica itself.
var goodplanVars = []string{"DATABASE_URL", "HTTP_ADDR", "PUBLIC_URL", "NATS_URL", "NATS_SUBJECT_PREFIX",
	"NATS_STREAM_REPLICAS", "DATA_DIR", "TRUSTED_PROXIES"}
