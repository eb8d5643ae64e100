package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=..." (make
// build: git describe); a plain `go build` leaves devVersion, and
// versionString then names the commit Go recorded in the binary.
var version = devVersion

// devVersion is the version of a binary built without -ldflags.
const devVersion = "0.1.0-dev"

// versionString is the version goodplan reports: the -ldflags one, or
// devVersion with the VCS revision (and "-dirty" for uncommitted changes)
// when the build recorded one.
func versionString() string {
	if version != devVersion {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return version + "+" + rev
}

// printVersion writes `goodplan version`'s line: the version, the Go
// release and the platform.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "goodplan %s (%s %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
