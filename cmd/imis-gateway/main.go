// Command imis-gateway is the openIMIS USSD and SMS gateway: one binary with
// the subcommands serve, migrate, seed-demo, reminders, sim,
// check-conversations, trace and version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // TIME_ZONE must resolve on minimal hosts without /usr/share/zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) && !errors.Is(err, errConversationsFailed) {
			fmt.Fprintln(os.Stderr, "imis-gateway:", err)
		}
		os.Exit(1)
	}
}

// errUsage means the usage text was already printed.
var errUsage = errors.New("usage")

type command struct {
	summary string
	run     func(ctx context.Context, env *environment, args []string) error
}

var commands = map[string]command{
	"serve":               {"serve USSD and SMS webhooks", serve},
	"migrate":             {"apply the gateway's database migrations", migrate},
	"seed-demo":           {"load deterministic demo data into a development database", seedDemo},
	"reminders":           {"run the renewal reminders job once, now ('reminders run')", reminders},
	"sim":                 {"dial the running gateway like a phone, in the terminal", simulate},
	"check-conversations": {"play conversation files against the running gateway and show what differs", checkConversations},
	"trace":               {"show what a caller saw and did: USSD screens, SMS, renewals", traceCmd},
	"version":             {"print the version", version},
}

// environment is what a subcommand may touch of the outside world.
type environment struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := &environment{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 {
		usage(stderr)
		return errUsage
	}
	name := args[1]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return nil
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "imis-gateway: unknown command %q\n\n", name)
		usage(stderr)
		return errUsage
	}
	err := cmd.run(ctx, env, args[2:])
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	width := 0
	for name := range commands {
		names = append(names, name)
		width = max(width, len(name))
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("imis-gateway: USSD and SMS gateway for openIMIS\n\nUsage:\n  imis-gateway <command> [flags]\n\nCommands:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, name, commands[name].summary)
	}
	b.WriteString("\nRun 'imis-gateway <command> --help' for a command's flags and environment variables.\n")
	io.WriteString(w, b.String()) //nolint:errcheck
}

// newFlagSet returns a flag set whose --help prints the summary, the flags
// and the environment variables the command reads.
func newFlagSet(env *environment, name, synopsis string, envVars [][2]string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		w := env.stdout
		fmt.Fprintf(w, "Usage: imis-gateway %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(env.stderr)
		if len(envVars) > 0 {
			fmt.Fprintln(w, "\nEnvironment:")
			for _, v := range envVars {
				fmt.Fprintf(w, "  %-22s %s\n", v[0], v[1])
			}
		}
	}
	return fs
}
