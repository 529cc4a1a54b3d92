package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// buildVersion is set at link time: -ldflags "-X main.buildVersion=v1.2.3".
var buildVersion = ""

func version(_ context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "version", "Print the gateway's version and the Go version it was built with.", nil)
	if err := fs.Parse(args); err != nil {
		return err
	}
	v, goVersion := buildVersion, "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
		if v == "" {
			v = info.Main.Version
		}
	}
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	fmt.Fprintf(env.stdout, "imis-gateway %s (%s)\n", v, goVersion)
	return nil
}
