package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// environment is the run's own services: PostgreSQL (scripts/services.sh),
// a Redis Sentinel group (scripts/redis-ha.sh), the fake SMS API and the two
// gateway instances.
type environment struct {
	cfg         config
	scriptEnv   []string // IMIS_* for the scripts, so that they act on the run's services only
	databaseURL string
	redisURL    string
	db          *pgxpool.Pool
	smsAPI      *fakeSMSAPI
	gateways    [2]*gatewayProcess
}

func startEnvironment(ctx context.Context, cfg config, say func(string, ...any)) (*environment, error) {
	env := &environment{cfg: cfg, scriptEnv: append(os.Environ(),
		"IMIS_STATE_DIR="+cfg.stateDir,
		"IMIS_PG_PORT="+strconv.Itoa(cfg.pgPort),
		"IMIS_REDIS_PORT="+strconv.Itoa(cfg.redisPort),
		"IMIS_REDIS_HA_PORT="+strconv.Itoa(cfg.redisHAPort),
	)}
	for _, port := range append(cfg.gatewayPorts[:], cfg.smsAPIPort) {
		if portAnswers(port) {
			return nil, fmt.Errorf("port %d is in use; choose others (-gateway-port, -sms-api-port)", port)
		}
	}
	say("starting PostgreSQL on :%d (scripts/services.sh, state %s)", cfg.pgPort, cfg.stateDir)
	if _, err := env.script(ctx, "services.sh", "up"); err != nil {
		return nil, err
	}
	exports, err := env.script(ctx, "services.sh", "env")
	if err != nil {
		return env, err
	}
	env.databaseURL = exportValue(exports, "DATABASE_URL")
	say("starting a Redis Sentinel group (scripts/redis-ha.sh, first port %d)", cfg.redisHAPort)
	if _, err := env.script(ctx, "redis-ha.sh", "up", "sentinel"); err != nil {
		return env, err
	}
	if exports, err = env.script(ctx, "redis-ha.sh", "env", "sentinel"); err != nil {
		return env, err
	}
	env.redisURL = exportValue(exports, "IMIS_TEST_REDIS_SENTINEL_URL")
	if env.databaseURL == "" || env.redisURL == "" {
		return env, errors.New("the scripts printed no DATABASE_URL or Sentinel URL")
	}

	say("migrating and seeding the demo data with %d synthetic families", cfg.families)
	gw := exec.CommandContext(ctx, cfg.bin, "migrate", "--dev-schema")
	gw.Env = append(os.Environ(), "DATABASE_URL="+env.databaseURL)
	if out, err := gw.CombinedOutput(); err != nil {
		return env, fmt.Errorf("migrate: %v\n%s", err, out)
	}
	gw = exec.CommandContext(ctx, cfg.bin, "seed-demo", "--reset", "--quiet", "--grow", strconv.Itoa(cfg.families))
	gw.Env = append(os.Environ(), "DATABASE_URL="+env.databaseURL)
	if out, err := gw.CombinedOutput(); err != nil {
		return env, fmt.Errorf("seed-demo: %v\n%s", err, out)
	}
	if env.db, err = pgxpool.New(ctx, env.databaseURL); err != nil {
		return env, err
	}
	if err := giveOfficersMobilePhones(ctx, env.db); err != nil {
		return env, err
	}
	// scripts/services.sh runs PostgreSQL with synchronous_commit off, for
	// speed: an immediate stop would then lose the last commits, which no
	// production database does. The run's database commits durably.
	if _, err := env.db.Exec(ctx, `ALTER DATABASE imis_gateway SET synchronous_commit = on`); err != nil {
		return env, err
	}

	if env.smsAPI, err = startFakeSMSAPI(cfg.smsAPIPort); err != nil {
		return env, err
	}
	for i, port := range cfg.gatewayPorts {
		env.gateways[i] = &gatewayProcess{
			name: fmt.Sprintf("gateway %d", i+1),
			bin:  cfg.bin,
			port: port,
			log:  filepath.Join(cfg.stateDir, fmt.Sprintf("gateway-%d.log", i+1)),
			env:  env.gatewayEnv(port),
		}
		say("starting %s on :%d (log %s)", env.gateways[i].name, port, env.gateways[i].log)
		if err := env.gateways[i].start(ctx); err != nil {
			return env, err
		}
	}
	return env, nil
}

// gatewayEnv is one instance's environment: the run's services, the
// callbacks of an accumulating and a last-only wire (tokens "dev"), SMS
// sent to the fake API, and no per-phone limits (the run's callers are few
// and busy).
func (env *environment) gatewayEnv(port int) []string {
	vars := append(os.Environ(),
		"DATABASE_URL="+env.databaseURL,
		"REDIS_URL="+env.redisURL,
		"LISTEN_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"USSD_PROVIDERS="+accumulatedWire().Name+","+lastOnlyWire().Name,
		"HOP_DEADLINE="+env.cfg.hopDeadline.String(),
		"SMS_PROVIDER="+smsWire().Name,
		"LOOKUP_LIMIT=off", "OFFICER_LOOKUP_LIMIT=off",
		"SMS_REPLY_BUDGET=0", "SMS_OFFICER_REPLY_BUDGET=0",
		"LOG_FORMAT=json", "LOG_LEVEL=info",
	)
	return append(vars, smsSendingEnv("http://127.0.0.1:"+strconv.Itoa(env.cfg.smsAPIPort))...)
}

// script runs one of the checkout's scripts against the run's services and
// returns its standard output.
func (env *environment) script(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(env.cfg.repo, "scripts", name), args...)
	cmd.Env = env.scriptEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// exportValue reads NAME's value from "export NAME='value'" lines.
func exportValue(exports, name string) string {
	for line := range strings.Lines(exports) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export "+name+"="); ok {
			return strings.Trim(v, `'"`)
		}
	}
	return ""
}

// stop ends the gateways and the fake API and, unless -keep, the services.
func (env *environment) stop(say func(string, ...any)) {
	for _, g := range env.gateways {
		if g != nil {
			g.stop()
		}
	}
	if env.smsAPI != nil {
		env.smsAPI.srv.Close()
	}
	if env.db != nil {
		env.db.Close()
	}
	if env.cfg.keep {
		say("leaving PostgreSQL (:%d) and the Sentinel group running (-keep)", env.cfg.pgPort)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	say("stopping the run's PostgreSQL and Redis")
	for _, s := range [][]string{{"redis-ha.sh", "down", "sentinel"}, {"services.sh", "down"}} {
		if _, err := env.script(ctx, s[0], s[1:]...); err != nil {
			say("%v", err)
		}
	}
}

// giveOfficersMobilePhones gives the synthetic officers (codes S00000 up,
// whose seeded phones are no valid numbers) mobile numbers, so that they
// can renew by USSD and get SMS replies: officerPhone(n).
func giveOfficersMobilePhones(ctx context.Context, db *pgxpool.Pool) error {
	_, err := db.Exec(ctx, `UPDATE "tblOfficer" SET "Phone" = '0655' || lpad(substr("Code", 2), 6, '0')
		WHERE "Code" ~ '^S[0-9]+$' AND "ValidityTo" IS NULL`)
	if err != nil {
		return fmt.Errorf("officers' phones: %w", err)
	}
	return nil
}

// officerPhone is synthetic officer n's phone after giveOfficersMobilePhones.
func officerPhone(n int) string { return fmt.Sprintf("+255655%06d", n) }

// postmasterPID is the PID of the run's PostgreSQL server, from
// scripts/services.sh status.
func (env *environment) postmasterPID(ctx context.Context) (int, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(env.cfg.repo, "scripts", "services.sh"), "status")
	cmd.Env = env.scriptEnv
	out, _ := cmd.Output() // non-zero while a service is down
	m := regexp.MustCompile(`(?m)^postgres\S*\s+running on \S+, pid (\d+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("scripts/services.sh status shows no running PostgreSQL:\n%s", out)
	}
	return strconv.Atoi(string(m[1]))
}

// gatewayProcess is one `imis-gateway serve` instance, which the run kills
// and starts again.
type gatewayProcess struct {
	name, bin, log string
	port           int
	env            []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

func (g *gatewayProcess) baseURL() string { return "http://127.0.0.1:" + strconv.Itoa(g.port) }

// start runs the instance and waits until it is ready.
func (g *gatewayProcess) start(ctx context.Context) error {
	logFile, err := os.OpenFile(g.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(g.bin, "serve", "--dev")
	cmd.Env, cmd.Stdout, cmd.Stderr = g.env, logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("%s: %w", g.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(exited) }() //nolint:errcheck // killed on purpose
	g.mu.Lock()
	g.cmd = cmd
	g.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited at start; see %s", g.name, g.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(g.baseURL() + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s not ready within 30s; see %s", g.name, g.log)
}

// kill sends SIGKILL: nothing in flight is finished.
func (g *gatewayProcess) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd != nil {
		g.cmd.Process.Signal(syscall.SIGKILL) //nolint:errcheck // gone already is fine
		g.cmd = nil
	}
}

// stop asks the instance to finish (SIGTERM) and waits a little.
func (g *gatewayProcess) stop() {
	g.mu.Lock()
	cmd := g.cmd
	g.cmd = nil
	g.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	for range 100 {
		if cmd.ProcessState != nil || cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Kill() //nolint:errcheck
}

func portAnswers(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}
