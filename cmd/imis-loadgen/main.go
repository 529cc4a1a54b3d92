// Command imis-loadgen drives a running imis-gateway with concurrent USSD
// sessions in Africa's Talking's wire format and reports throughput and
// latency. Each session is the three-hop membership check: dial, "1", the
// insurance number.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "imis-loadgen:", err)
		}
		os.Exit(1)
	}
}

type config struct {
	endpoint string
	clients  int
	duration time.Duration
	warmup   time.Duration
	chfids   []string
	timeout  time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("imis-loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the gateway")
	token := fs.String("token", "dev", "Africa's Talking callback token")
	clients := fs.Int("clients", 50, "concurrent clients, each running one session after another")
	duration := fs.Duration("duration", 20*time.Second, "measured run time")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured warm-up before the run")
	chfids := fs.String("chfids", "101000001", "comma-separated insurance numbers to check, used in turn")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: imis-loadgen [flags]\n\nRuns three-hop membership sessions against a gateway and prints hops/s and latency percentiles.\n\nFlags:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg := config{
		endpoint: strings.TrimRight(*base, "/") + "/ussd/africastalking/" + url.PathEscape(*token),
		clients:  *clients,
		duration: *duration,
		warmup:   *warmup,
		chfids:   strings.Split(*chfids, ","),
		timeout:  *timeout,
	}
	if cfg.clients < 1 || cfg.duration <= 0 {
		return errors.New("--clients and --duration must be positive")
	}
	res, err := load(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	res.print(stdout, cfg)
	if res.failed > 0 {
		return fmt.Errorf("%d hops failed", res.failed)
	}
	return nil
}

type result struct {
	latencies []time.Duration
	sessions  int64
	failed    int64
	firstErr  string
	elapsed   time.Duration
}

func load(ctx context.Context, cfg config, progress io.Writer) (*result, error) {
	transport := &http.Transport{
		MaxIdleConns:        cfg.clients,
		MaxIdleConnsPerHost: cfg.clients,
		DialContext:         (&net.Dialer{Timeout: cfg.timeout}).DialContext,
	}
	client := &http.Client{Transport: transport, Timeout: cfg.timeout}
	defer transport.CloseIdleConnections()

	var (
		measuring atomic.Bool
		stop      atomic.Bool
		sessions  atomic.Int64
		failed    atomic.Int64
		errOnce   sync.Once
		firstErr  string
		mu        sync.Mutex
		all       []time.Duration
		wg        sync.WaitGroup
	)
	for c := range cfg.clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, 1<<16)
			for n := 0; !stop.Load(); n++ {
				id := fmt.Sprintf("load-%d-%d-%d", time.Now().UnixNano(), c, n)
				chfid := cfg.chfids[(c+n)%len(cfg.chfids)]
				for _, text := range []string{"", "1", "1*" + chfid} {
					start := time.Now()
					err := hop(ctx, client, cfg.endpoint, id, text)
					took := time.Since(start)
					if !measuring.Load() {
						continue
					}
					if err != nil {
						failed.Add(1)
						errOnce.Do(func() { firstErr = err.Error() })
						continue
					}
					local = append(local, took)
				}
				if measuring.Load() {
					sessions.Add(1)
				}
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
		})
	}

	fmt.Fprintf(progress, "warming up for %s with %d clients...\n", cfg.warmup, cfg.clients)
	if !sleep(ctx, cfg.warmup) {
		stop.Store(true)
		wg.Wait()
		return nil, ctx.Err()
	}
	measuring.Store(true)
	start := time.Now()
	fmt.Fprintf(progress, "measuring for %s...\n", cfg.duration)
	sleep(ctx, cfg.duration)
	measuring.Store(false)
	elapsed := time.Since(start)
	stop.Store(true)
	wg.Wait()
	return &result{latencies: all, sessions: sessions.Load(), failed: failed.Load(), firstErr: firstErr, elapsed: elapsed}, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func hop(ctx context.Context, client *http.Client, endpoint, session, text string) error {
	form := "sessionId=" + url.QueryEscape(session) +
		"&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255700000001&networkCode=99999&text=" + url.QueryEscape(text)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	// The final hop must be a real answer, not the "unavailable" screen.
	if strings.Contains(string(body), "unavailable") {
		return fmt.Errorf("gateway answered %q", body)
	}
	return nil
}

func (r *result) print(w io.Writer, cfg config) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	hops := len(r.latencies)
	fmt.Fprintf(w, "clients %d, duration %s\n", cfg.clients, r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "hops %d (%.0f hops/s), sessions %d (%.0f/s), failed %d\n",
		hops, float64(hops)/r.elapsed.Seconds(), r.sessions, float64(r.sessions)/r.elapsed.Seconds(), r.failed)
	fmt.Fprintf(w, "latency p50 %s  p90 %s  p99 %s  max %s\n", pct(.50), pct(.90), pct(.99), pct(1))
	if r.firstErr != "" {
		fmt.Fprintf(w, "first error: %s\n", r.firstErr)
	}
}
