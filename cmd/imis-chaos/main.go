// Command imis-chaos is the chaos run (make chaos): it starts a private
// PostgreSQL, a Redis Sentinel group and two gateway instances sharing them,
// drives USSD sessions of every kind and SMS commands at both instances while
// it kills and restarts, in turn, the Redis master, PostgreSQL and one gateway
// instance, and then checks what must hold whatever fails:
//
//   - no renewal is written twice (receipts unique, one policy per renewal);
//   - no renewal whose confirmation the caller saw (screen or SMS) is lost;
//   - every inbound SMS is answered exactly once;
//   - no outbound SMS is sent twice (the fake SMS API's log);
//   - every hop is answered within the aggregator's deadline.
//
// "Service temporarily unavailable" shown during an outage is allowed, and
// counted. The run prints a report (counts per kind and outcome, latencies,
// recovery after each fault) and exits non-zero when an invariant breaks.
// RELIABILITY.md explains the invariants and holds a real run's report.
//
// Everything listens on loopback, on ports of its own, with its state under
// -state (default .local/chaos): the project's shared services are never
// touched.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errInvariantBroken):
		fmt.Fprintln(os.Stderr, "imis-chaos:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "imis-chaos:", err)
		os.Exit(1)
	}
}

// errInvariantBroken is returned when the run finished but an invariant
// failed; the report says which.
var errInvariantBroken = errors.New("an invariant is broken (see the report above)")

// config is the run's settings; flags set them.
type config struct {
	duration       time.Duration // traffic and faults
	settle         time.Duration // at most, after the traffic, for the SMS queues to drain
	deadline       time.Duration // the aggregator's: a hop answered later counts as lost
	hopDeadline    time.Duration // the gateway's HOP_DEADLINE
	ussdClients    int
	smsClients     int
	think          time.Duration // pause between a caller's hops
	retryShare     float64       // share of hops and SMS sent twice, as aggregators retry
	families       int           // synthetic families to renew
	stateDir       string
	bin            string // bin/imis-gateway
	repo           string // the checkout: scripts/ are run from it
	pgPort         int
	redisPort      int // the standalone Redis services.sh starts beside PostgreSQL (unused by the gateways)
	redisHAPort    int // IMIS_REDIS_HA_PORT of the Sentinel group
	gatewayPorts   [2]int
	smsAPIPort     int
	keep           bool // leave the services running at the end
	faultsDisabled bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("imis-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.DurationVar(&cfg.duration, "duration", 3*time.Minute, "traffic time; the faults fall at 15%, 45% and 75% of it")
	fs.DurationVar(&cfg.settle, "settle", time.Minute, "longest wait after the traffic for the inbound SMS and the outbox to drain")
	fs.DurationVar(&cfg.deadline, "deadline", 10*time.Second, "the aggregator's deadline for a hop's answer")
	fs.DurationVar(&cfg.hopDeadline, "hop-deadline", 5*time.Second, "the gateways' HOP_DEADLINE")
	fs.IntVar(&cfg.ussdClients, "ussd-clients", 6, "concurrent USSD callers, each running one session after another")
	fs.IntVar(&cfg.smsClients, "sms-clients", 2, "concurrent SMS senders")
	fs.DurationVar(&cfg.think, "think", 100*time.Millisecond, "pause between a caller's hops")
	fs.Float64Var(&cfg.retryShare, "retry-share", 0.15, "share of hops and SMS the aggregator sends twice")
	fs.IntVar(&cfg.families, "families", 0, "synthetic families seeded for renewals, seven in ten renewable (default: 25 per second of -duration)")
	fs.StringVar(&cfg.stateDir, "state", ".local/chaos", "state directory of the run's own services and logs")
	fs.StringVar(&cfg.bin, "gateway", "bin/imis-gateway", "the gateway binary")
	fs.StringVar(&cfg.repo, "repo", ".", "the checkout whose scripts/ start the services")
	fs.IntVar(&cfg.pgPort, "pg-port", 55632, "port of the run's PostgreSQL")
	fs.IntVar(&cfg.redisPort, "redis-port", 56679, "port of the standalone Redis scripts/services.sh starts beside it (unused)")
	fs.IntVar(&cfg.redisHAPort, "redis-ha-port", 46600, "IMIS_REDIS_HA_PORT of the run's Sentinel group")
	fs.IntVar(&cfg.gatewayPorts[0], "gateway-port", 18680, "port of the first gateway instance; the second listens on the next")
	fs.IntVar(&cfg.smsAPIPort, "sms-api-port", 18690, "port of the fake Africa's Talking SMS API")
	fs.BoolVar(&cfg.keep, "keep", false, "leave the run's PostgreSQL and Redis running at the end")
	fs.BoolVar(&cfg.faultsDisabled, "no-faults", false, "drive the traffic without faults (a baseline)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.duration < 20*time.Second {
		return errors.New("-duration: at least 20s, so that each fault has time to recover")
	}
	cfg.gatewayPorts[1] = cfg.gatewayPorts[0] + 1
	if cfg.families <= 0 {
		// About twice what the callers renew at full speed, so that none runs out.
		cfg.families = int(25 * cfg.duration.Seconds())
	}
	var err error
	if cfg.repo, err = filepath.Abs(cfg.repo); err != nil {
		return err
	}
	if !filepath.IsAbs(cfg.stateDir) {
		cfg.stateDir = filepath.Join(cfg.repo, cfg.stateDir)
	}
	if !filepath.IsAbs(cfg.bin) {
		cfg.bin = filepath.Join(cfg.repo, cfg.bin)
	}
	if err := os.MkdirAll(cfg.stateDir, 0o755); err != nil {
		return err
	}
	say := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s ==> %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}

	env, err := startEnvironment(ctx, cfg, say)
	if env != nil {
		defer env.stop(say)
	}
	if err != nil {
		return err
	}
	rep, err := drive(ctx, cfg, env, say)
	if err != nil {
		return err
	}
	rep.print(stdout)
	if len(rep.violations) > 0 {
		return errInvariantBroken
	}
	return nil
}
