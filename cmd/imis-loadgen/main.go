// Command imis-loadgen drives a running imis-gateway with concurrent USSD
// sessions in a provider's wire format (the registry's default unless
// -provider says otherwise) and reports throughput and latency. Each session is the three-hop membership check: dial, "1", the
// insurance number. Every session calls from a new phone number by default,
// as a national scheme's callers rarely repeat within minutes (and so that
// the gateway's per-phone look-up limits never shape a run); -phones client
// gives each client one number for all its sessions instead.
package main

import (
	"bufio"
	"bytes"
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/registry"
)

// serviceCode is the code every session dials.
const serviceCode = "*384*1234#"

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
	endpoint string // the provider's callback URL, token included
	wire     providers.Client
	clients  int
	duration time.Duration
	warmup   time.Duration
	chfids   []string
	timeout  time.Duration
	// phonePerClient: each client calls from one number (-phones client)
	// rather than a new one per session.
	phonePerClient bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("imis-loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the gateway")
	provider := fs.String("provider", registry.Default().Name, "wire format to speak: "+strings.Join(registry.Names(registry.USSD()), ", "))
	token := fs.String("token", "dev", "the provider's callback token")
	clients := fs.Int("clients", 50, "concurrent clients, each running one session after another")
	duration := fs.Duration("duration", 20*time.Second, "measured run time")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured warm-up before the run")
	chfids := fs.String("chfids", "101000001", "comma-separated insurance numbers to check, used in turn")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	phones := fs.String("phones", "session", "session: every session from a new phone number; client: one number per client")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "Usage: imis-loadgen [flags]\n\nRuns three-hop membership sessions against a gateway and prints hops/s and latency percentiles.\n\nFlags:")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	p, ok := registry.Lookup(*provider)
	if !ok || p.USSD == nil {
		return fmt.Errorf("unknown provider %q (known: %s)", *provider, strings.Join(registry.Names(registry.USSD()), ", "))
	}
	cfg := config{
		endpoint: strings.TrimRight(*base, "/") + providers.USSDPath(p.Name, url.PathEscape(*token)),
		wire:     p.USSD.Client,
		clients:  *clients,
		duration: *duration,
		warmup:   *warmup,
		chfids:   strings.Split(*chfids, ","),
		timeout:  *timeout,
	}
	if cfg.clients < 1 || cfg.duration <= 0 {
		return errors.New("--clients and --duration must be positive")
	}
	switch *phones {
	case "session":
	case "client":
		cfg.phonePerClient = true
	default:
		return fmt.Errorf("--phones must be session or client (got %q)", *phones)
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
	ownCPU    time.Duration // the generator's own CPU time over the measured run
}

func load(ctx context.Context, cfg config, progress io.Writer) (*result, error) {
	target, err := url.Parse(cfg.endpoint)
	if err != nil || target.Scheme != "http" || target.Host == "" {
		return nil, fmt.Errorf("--url must be an http:// URL (got %q)", cfg.endpoint)
	}

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
	// Phone numbers +25571xxxxxxx (Tanzanian mobile numbers), one per
	// session from a counter, or one per client.
	var nextPhone atomic.Int64
	phone := func(n int64) string { return fmt.Sprintf("+25571%07d", n%10_000_000) }
	for c := range cfg.clients {
		wg.Go(func() {
			conn := &httpConn{host: target.Host, timeout: cfg.timeout}
			defer conn.close()
			local := make([]time.Duration, 0, 1<<16)
			call := providers.Call{URL: cfg.endpoint, MSISDN: phone(int64(c)), ServiceCode: serviceCode}
			for n := 0; !stop.Load(); n++ {
				call.Session, call.Transcript = fmt.Sprintf("load-%d-%d-%d", time.Now().UnixNano(), c, n), ""
				if !cfg.phonePerClient {
					call.MSISDN = phone(nextPhone.Add(1))
				}
				chfid := cfg.chfids[(c+n)%len(cfg.chfids)]
				for i, input := range []string{serviceCode, "1", chfid} {
					call.Seq, call.Start, call.Input = i+1, i == 0, input
					if i > 0 {
						call.Transcript = strings.TrimPrefix(call.Transcript+"*"+input, "*")
					}
					start := time.Now()
					err := conn.hop(ctx, cfg.wire, call)
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
	start, startCPU := time.Now(), processCPU()
	fmt.Fprintf(progress, "measuring for %s...\n", cfg.duration)
	sleep(ctx, cfg.duration)
	measuring.Store(false)
	elapsed, ownCPU := time.Since(start), processCPU()-startCPU
	stop.Store(true)
	wg.Wait()
	return &result{latencies: all, sessions: sessions.Load(), failed: failed.Load(), firstErr: firstErr,
		elapsed: elapsed, ownCPU: ownCPU}, nil
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

// httpConn is one keep-alive HTTP/1.1 connection speaking just enough of the
// protocol for a USSD hop. net/http's client costs several times more CPU
// per request, and on a 2-core machine shared with the gateway, Redis and
// PostgreSQL every cycle the generator spends is taken from what it measures.
type httpConn struct {
	host    string
	timeout time.Duration
	conn    net.Conn
	r       *bufio.Reader
	req     []byte
}

// hop sends the hop wire makes of call.
func (c *httpConn) hop(ctx context.Context, wire providers.Client, call providers.Call) error {
	req, err := wire.Hop(call)
	if err != nil {
		return err
	}
	if err := c.roundTrip(ctx, req); err != nil {
		c.close() // the next hop reconnects
		return err
	}
	return nil
}

func (c *httpConn) roundTrip(ctx context.Context, req providers.Request) error {
	if c.conn == nil {
		d := net.Dialer{Timeout: c.timeout}
		conn, err := d.DialContext(ctx, "tcp", c.host)
		if err != nil {
			return err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 4096)
	}
	path := strings.TrimPrefix(req.URL, "http://"+c.host)
	c.req = fmt.Appendf(c.req[:0], "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		req.Method, path, c.host, req.ContentType, len(req.Body))
	c.req = append(c.req, req.Body...)
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return err
	}
	status, reply, err := c.readResponse()
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d", status)
	}
	// The final hop must be a real answer, not the "unavailable" screen.
	if bytes.Contains(reply, []byte("unavailable")) {
		return fmt.Errorf("gateway answered %q", reply)
	}
	return nil
}

// readResponse reads a response with a Content-Length body, which is what
// the gateway sends for its short replies.
func (c *httpConn) readResponse() (status int, body []byte, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, fmt.Errorf("malformed status line %q", line)
	}
	length := -1
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		header := bytes.TrimRight(line, "\r\n")
		if len(header) == 0 {
			break
		}
		if name, value, ok := bytes.Cut(header, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, nil, fmt.Errorf("malformed Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return 0, nil, errors.New("response without Content-Length")
	}
	body = make([]byte, length)
	_, err = io.ReadFull(c.r, body)
	return status, body, err
}

func (c *httpConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.r = nil, nil
	}
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
	if hops > 0 && r.ownCPU > 0 {
		fmt.Fprintf(w, "load generator CPU %.0f µs per hop (%.0f%% of one core)\n",
			float64(r.ownCPU.Microseconds())/float64(hops), 100*r.ownCPU.Seconds()/r.elapsed.Seconds())
	}
	if r.firstErr != "" {
		fmt.Fprintf(w, "first error: %s\n", r.firstErr)
	}
}
