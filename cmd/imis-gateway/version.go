package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/openimis/imis-gateway/clip"
)

// buildVersion is set at link time: -ldflags "-X main.buildVersion=v1.2.3".
var buildVersion = ""

func version(_ context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "version", "Print the gateway's version and the Go version it was built with.", nil)
	if err := fs.Parse(args); err != nil {
		return err
	}
	goVersion := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
	}
	fmt.Fprintf(env.stdout, "imis-gateway %s (%s)\n", versionString(), goVersion)
	return nil
}

// versionString is the gateway's version: the link-time one, the module's,
// or "dev". It is written as "SourceVersion" on openIMIS rows (at most 15
// characters there).
func versionString() string {
	v := buildVersion
	if info, ok := debug.ReadBuildInfo(); ok && v == "" {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	return clip.Bytes(v, 15)
}
