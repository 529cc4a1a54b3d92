// Command imis-loadgen drives a running imis-gateway with concurrent USSD
// sessions in a provider's wire format (the registry's default unless
// -provider says otherwise) and reports throughput and latency, beside those
// of a minimal server measured in the same run.
//
// Sessions are a mix (-mix) of three kinds, each of three or four hops:
//
//	membership   dial, "1", a known insurance number (-chfids)     → the coverage answer
//	claims       dial, "2", a number, "98" while there is more     → claim pages, from the
//	             insured's own phone (-claims number@phone)
//	unknown      dial, "1", a number no insuree has                → "No insuree has number …"
//
// Every membership and unknown session calls from a new phone number by
// default, as a national scheme's callers rarely repeat within minutes (and
// so that the gateway's per-phone look-up limits never shape a run); -phones
// client gives each client one number for all its sessions instead.
//
// The ceiling (imis-loadgen ceiling) is a minimal net/http server answering
// the default provider's requests with constant screens: the most this machine can carry
// for the load's shape. With -ceiling URL the generator measures it first,
// then the gateway, and reports the gateway as a fraction of it, since
// absolute numbers alone say little on a shared machine.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
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
	endpoint string // the gateway's USSD callback URL, token included
	ceiling  string // the ceiling's, "" for none
	wire     providers.Client
	clients  int
	duration time.Duration
	warmup   time.Duration
	timeout  time.Duration
	chfids   numbers
	claims   []holder // numbers whose claims are listed, with their insured's phone
	mix      []weighted
	// phonePerClient: each client calls from one number (-phones client)
	// rather than a new one per session.
	phonePerClient bool
	// watched are the processes whose CPU per hop the gateway's run
	// reports (-cpu): the gateway, PostgreSQL, Redis.
	watched []watchedProcess
}

// watchedProcess is processes measured together with their children, by
// name. A name with a slash (postgres/trace) is a part of another's, shown
// but not added to the total.
type watchedProcess struct {
	name string
	pids []int
}

func (p watchedProcess) part() bool { return strings.Contains(p.name, "/") }

func (p watchedProcess) cpu() (time.Duration, error) {
	var sum time.Duration
	for _, pid := range p.pids {
		d, err := treeCPU(pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// holder is an insurance number and a phone that may see its claims.
type holder struct{ chfid, phone string }

// session kinds.
const (
	kindMembership = "membership"
	kindClaims     = "claims"
	kindUnknown    = "unknown"
)

var kinds = []string{kindMembership, kindClaims, kindUnknown}

type weighted struct {
	kind   string
	weight int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "ceiling" {
		return serveCeiling(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("imis-loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the gateway")
	ceiling := fs.String("ceiling", "", "base URL of an 'imis-loadgen ceiling' server to measure first, in the same run")
	provider := fs.String("provider", registry.Default().Name, "wire format to speak: "+strings.Join(registry.Names(registry.USSD()), ", "))
	token := fs.String("token", "dev", "the provider's callback token")
	clients := fs.Int("clients", 50, "concurrent clients, each running one session after another")
	duration := fs.Duration("duration", 20*time.Second, "measured run time (for each of the ceiling and the gateway)")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured warm-up before each run")
	chfids := fs.String("chfids", "101203401", "comma-separated insurance numbers of membership checks, chosen at random;\n"+
		"FROM-TO stands for every number in that range (e.g. 1000000000-1009999999 on a grown database)")
	claims := fs.String("claims", "", "comma-separated number@phone of claims checks, called from that phone (none: no claims sessions)")
	mix := fs.String("mix", "membership=8,claims=1,unknown=1", "relative weights of the session kinds (membership, claims, unknown)")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	phones := fs.String("phones", "session", "session: every session from a new phone number; client: one number per client")
	cpu := fs.String("cpu", "", "comma-separated name=pid[+pid...] of processes whose CPU time per hop, children included, the gateway's run\n"+
		"reports (Linux), e.g. gateway=1234,postgres=1200,redis=1100 (PostgreSQL's postmaster: its backends are its children);\n"+
		"a name with a slash is a part of another, not added to the total: postgres/trace=1300")
	fs.Usage = func() {
		fmt.Fprintln(stdout, `Usage: imis-loadgen [flags]
       imis-loadgen ceiling [-listen address]

Runs USSD sessions against a gateway and prints hops/s and latency percentiles;
with -ceiling, first against the minimal server 'imis-loadgen ceiling' serves,
and the gateway's figures as fractions of the ceiling's.

Flags:`)
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
	path := providers.USSDPath(p.Name, url.PathEscape(*token))
	cfg := config{
		endpoint: strings.TrimRight(*base, "/") + path,
		wire:     p.USSD.Client,
		clients:  *clients,
		duration: *duration,
		warmup:   *warmup,
		timeout:  *timeout,
	}
	var err error
	if cfg.chfids, err = parseNumbers(*chfids); err != nil {
		return err
	}
	if *ceiling != "" {
		if p.Name != registry.Default().Name {
			return fmt.Errorf("the ceiling speaks %s only", registry.Default().Name)
		}
		cfg.ceiling = strings.TrimRight(*ceiling, "/") + path
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
	if cfg.claims, err = parseHolders(*claims); err != nil {
		return err
	}
	if cfg.watched, err = parseWatched(*cpu); err != nil {
		return err
	}
	if cfg.mix, err = parseMix(*mix, len(cfg.claims) > 0); err != nil {
		return err
	}

	var ceilingRes *result
	if cfg.ceiling != "" {
		fmt.Fprintf(stderr, "ceiling %s\n", cfg.ceiling)
		if ceilingRes, err = load(ctx, cfg, cfg.ceiling, nil, stderr); err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
	}
	fmt.Fprintf(stderr, "gateway %s\n", cfg.endpoint)
	res, err := load(ctx, cfg, cfg.endpoint, cfg.watched, stderr)
	if err != nil {
		return err
	}
	if ceilingRes != nil {
		fmt.Fprintln(stdout, "ceiling (constant screens):")
		ceilingRes.print(stdout, cfg)
		fmt.Fprintln(stdout, "gateway:")
	}
	res.print(stdout, cfg)
	if ceilingRes != nil {
		printRatio(stdout, res, ceilingRes)
	}
	if res.failed > 0 {
		return fmt.Errorf("%d hops failed", res.failed)
	}
	return nil
}

// numbers are insurance numbers to look up: single ones and ranges.
type numbers []numberRange

// numberRange is the numbers from first to last; a single number is a range
// of one, kept as text so that leading zeros survive.
type numberRange struct {
	text        string
	first, last int64
}

// parseNumbers reads "101203401,48213,1000000000-1009999999".
func parseNumbers(s string) (numbers, error) {
	var out numbers
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		if !isRange {
			out = append(out, numberRange{text: part})
			continue
		}
		first, err1 := strconv.ParseInt(from, 10, 64)
		last, err2 := strconv.ParseInt(to, 10, 64)
		if err1 != nil || err2 != nil || first < 0 || last < first {
			return nil, fmt.Errorf("--chfids %q: want FROM-TO with FROM <= TO", part)
		}
		out = append(out, numberRange{first: first, last: last})
	}
	if len(out) == 0 {
		return nil, errors.New("--chfids: at least one insurance number, please")
	}
	return out, nil
}

// pick chooses a range at random, then a number in it.
func (ns numbers) pick(r *rand.Rand) string {
	n := ns[r.IntN(len(ns))]
	if n.text != "" {
		return n.text
	}
	return strconv.FormatInt(n.first+r.Int64N(n.last-n.first+1), 10)
}

// parseHolders reads "number@phone,...".
func parseHolders(s string) ([]holder, error) {
	var out []holder
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		chfid, phone, ok := strings.Cut(part, "@")
		if !ok || chfid == "" || phone == "" {
			return nil, fmt.Errorf("--claims %q: want number@phone", part)
		}
		out = append(out, holder{chfid, phone})
	}
	return out, nil
}

// parseWatched reads "gateway=1234,postgres=1200,postgres/trace=1300+1301"
// and checks that each process can be measured.
func parseWatched(s string) ([]watchedProcess, error) {
	var out []watchedProcess
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, pids, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--cpu %q: want name=pid", part)
		}
		p := watchedProcess{name: name}
		for pid := range strings.SplitSeq(pids, "+") {
			n, err := strconv.Atoi(pid)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("--cpu %q: want name=pid", part)
			}
			p.pids = append(p.pids, n)
		}
		if _, err := p.cpu(); err != nil {
			return nil, fmt.Errorf("--cpu %s: %w", name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parseMix reads "membership=8,claims=1,unknown=1"; claims sessions need
// holders, so without them their weight is dropped.
func parseMix(s string, withClaims bool) ([]weighted, error) {
	var mix []weighted
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		kind, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || err != nil || n < 0 || !slices.Contains(kinds, kind) {
			return nil, fmt.Errorf("--mix %q: want kind=weight,... with kinds %s", s, strings.Join(kinds, ", "))
		}
		if kind == kindClaims && !withClaims {
			continue
		}
		mix = append(mix, weighted{kind, n})
		total += n
	}
	if total == 0 {
		return nil, fmt.Errorf("--mix %q: no session kind has a weight (claims need --claims)", s)
	}
	return mix, nil
}

// pick chooses a session kind by weight for the n-th session.
func pick(mix []weighted, r *rand.Rand) string {
	total := 0
	for _, w := range mix {
		total += w.weight
	}
	x := r.IntN(total)
	for _, w := range mix {
		if x < w.weight {
			return w.kind
		}
		x -= w.weight
	}
	return mix[len(mix)-1].kind
}

type result struct {
	latencies []time.Duration // every hop
	lookups   []time.Duration // the hops that carry an insurance number (a database look-up)
	sessions  map[string]int64
	failed    int64
	limited   int64 // answers that were the look-up limit's refusal
	firstErr  string
	elapsed   time.Duration
	ownCPU    time.Duration // the generator's own CPU time over the measured run
	// watchedCPU is each watched process's CPU time over the measured run,
	// in the order of -cpu; a process that could not be read at the end is
	// left out.
	watchedCPU []processCPUTime
}

type processCPUTime struct {
	watchedProcess
	cpu time.Duration
}

// clientStats is one client's share of a result, merged at the end.
type clientStats struct {
	latencies, lookups []time.Duration
	sessions           map[string]int64
	failed, limited    int64
	firstErr           string
}

func load(ctx context.Context, cfg config, endpoint string, watched []watchedProcess, progress io.Writer) (*result, error) {
	target, err := url.Parse(endpoint)
	if err != nil || target.Scheme != "http" || target.Host == "" {
		return nil, fmt.Errorf("the URL must be an http:// URL (got %q)", endpoint)
	}

	var (
		measuring, stop atomic.Bool
		nextPhone       atomic.Int64
		mu              sync.Mutex
		all             []clientStats
		wg              sync.WaitGroup
	)
	seed := uint64(time.Now().UnixNano())
	// Phones from a base of this run's own, so that runs do not reuse
	// each other's numbers.
	nextPhone.Store(rand.New(rand.NewPCG(seed, 0)).Int64N(10_000_000))
	for c := range cfg.clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(c)))
			conn := &httpConn{host: target.Host, timeout: cfg.timeout}
			defer conn.close()
			call := providers.Call{URL: endpoint, MSISDN: phone(int64(c)), ServiceCode: serviceCode}
			st := clientStats{latencies: make([]time.Duration, 0, 1<<16), sessions: map[string]int64{}}
			for n := 0; !stop.Load(); n++ {
				kind := pick(cfg.mix, r)
				call.Session = fmt.Sprintf("load-%d-%d-%d", time.Now().UnixNano(), c, n)
				var inputs []string
				switch kind {
				case kindMembership:
					call.MSISDN = phone(nextPhone.Add(1))
					inputs = []string{"1", cfg.chfids.pick(r)}
				case kindUnknown:
					call.MSISDN = phone(nextPhone.Add(1))
					inputs = []string{"1", fmt.Sprintf("U%08d", r.IntN(100_000_000))}
				case kindClaims:
					h := cfg.claims[r.IntN(len(cfg.claims))]
					call.MSISDN = h.phone
					inputs = []string{"2", h.chfid, "98"}
				}
				if cfg.phonePerClient && kind != kindClaims {
					call.MSISDN = phone(int64(c))
				}
				ok := st.session(ctx, conn, cfg.wire, call, inputs, &measuring)
				if ok && measuring.Load() {
					st.sessions[kind]++
				}
			}
			mu.Lock()
			all = append(all, st)
			mu.Unlock()
		})
	}

	fmt.Fprintf(progress, "  warming up for %s with %d clients...\n", cfg.warmup, cfg.clients)
	if !sleep(ctx, cfg.warmup) {
		stop.Store(true)
		wg.Wait()
		return nil, ctx.Err()
	}
	measuring.Store(true)
	startWatched := make([]time.Duration, len(watched))
	for i, p := range watched {
		startWatched[i], _ = p.cpu()
	}
	start, startCPU := time.Now(), processCPU()
	fmt.Fprintf(progress, "  measuring for %s...\n", cfg.duration)
	sleep(ctx, cfg.duration)
	measuring.Store(false)
	elapsed, ownCPU := time.Since(start), processCPU()-startCPU
	res := &result{sessions: map[string]int64{}, elapsed: elapsed, ownCPU: ownCPU}
	for i, p := range watched {
		if end, err := p.cpu(); err == nil {
			res.watchedCPU = append(res.watchedCPU, processCPUTime{p, end - startWatched[i]})
		}
	}
	stop.Store(true)
	wg.Wait()

	for _, st := range all {
		res.latencies = append(res.latencies, st.latencies...)
		res.lookups = append(res.lookups, st.lookups...)
		for k, v := range st.sessions {
			res.sessions[k] += v
		}
		res.failed += st.failed
		res.limited += st.limited
		if res.firstErr == "" {
			res.firstErr = st.firstErr
		}
	}
	return res, nil
}

// phone is the n-th load phone number: +25571 and seven digits from n, ten
// million Tanzanian mobile numbers.
func phone(n int64) string { return fmt.Sprintf("+25571%07d", n%10_000_000) }

// session dials, then sends inputs one by one until an answer ends the
// session (a claims list that fits one screen has no next page); false when
// a hop failed. The third request carries the insurance number: a look-up.
func (st *clientStats) session(ctx context.Context, conn *httpConn, wire providers.Client, call providers.Call, inputs []string, measuring *atomic.Bool) bool {
	call.Transcript = ""
	for i, input := range append([]string{serviceCode}, inputs...) {
		call.Seq, call.Start, call.Input = i+1, i == 0, input
		if i > 0 {
			call.Transcript = strings.TrimPrefix(call.Transcript+"*"+input, "*")
		}
		start := time.Now()
		reply, err := conn.hop(ctx, wire, call)
		took := time.Since(start)
		if !measuring.Load() {
			if err != nil {
				return false
			}
			continue
		}
		if err != nil {
			st.failed++
			if st.firstErr == "" {
				st.firstErr = err.Error()
			}
			return false
		}
		st.latencies = append(st.latencies, took)
		if i == 2 {
			st.lookups = append(st.lookups, took)
			if strings.Contains(reply.Text, "Too many") {
				st.limited++
			}
		}
		if reply.End {
			break
		}
	}
	return true
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

// hop sends the request wire makes of call and reads the answer.
func (c *httpConn) hop(ctx context.Context, wire providers.Client, call providers.Call) (providers.Reply, error) {
	req, err := wire.Hop(call)
	if err != nil {
		return providers.Reply{}, err
	}
	body, err := c.roundTrip(ctx, req)
	if err != nil {
		c.close() // the next hop reconnects
		return providers.Reply{}, err
	}
	return wire.Read(body)
}

func (c *httpConn) roundTrip(ctx context.Context, req providers.Request) ([]byte, error) {
	if c.conn == nil {
		d := net.Dialer{Timeout: c.timeout}
		conn, err := d.DialContext(ctx, "tcp", c.host)
		if err != nil {
			return nil, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 4096)
	}
	path := strings.TrimPrefix(req.URL, "http://"+c.host)
	c.req = fmt.Appendf(c.req[:0], "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		req.Method, path, c.host, req.ContentType, len(req.Body))
	c.req = append(c.req, req.Body...)
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return nil, err
	}
	status, reply, err := c.readResponse()
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("status %d", status)
	}
	// Every hop must be a real answer, not the "unavailable" screen.
	if bytes.Contains(reply, []byte("unavailable")) {
		return nil, fmt.Errorf("gateway answered %q", reply)
	}
	return reply, nil
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

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func (r *result) hopsPerSecond() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r *result) print(w io.Writer, cfg config) {
	slices.Sort(r.latencies)
	slices.Sort(r.lookups)
	hops := len(r.latencies)
	var sessions int64
	var kindsDone []string
	for _, k := range kinds {
		if n := r.sessions[k]; n > 0 {
			sessions += n
			kindsDone = append(kindsDone, fmt.Sprintf("%s %d", k, n))
		}
	}
	fmt.Fprintf(w, "clients %d, duration %s\n", cfg.clients, r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "hops %d (%.0f hops/s), sessions %d (%.0f/s: %s), failed %d\n",
		hops, r.hopsPerSecond(), sessions, float64(sessions)/r.elapsed.Seconds(), strings.Join(kindsDone, ", "), r.failed)
	fmt.Fprintf(w, "latency p50 %s  p90 %s  p99 %s  max %s\n",
		percentile(r.latencies, .50), percentile(r.latencies, .90), percentile(r.latencies, .99), percentile(r.latencies, 1))
	fmt.Fprintf(w, "look-up hops %d: p50 %s  p99 %s\n", len(r.lookups), percentile(r.lookups, .50), percentile(r.lookups, .99))
	if r.limited > 0 {
		fmt.Fprintf(w, "look-ups refused by the gateway's per-phone limit: %d (the run measures refusals, not answers)\n", r.limited)
	}
	perHop := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(hops) }
	if hops > 0 && r.ownCPU > 0 {
		fmt.Fprintf(w, "load generator CPU %.0f µs per hop (%.0f%% of one core)\n",
			perHop(r.ownCPU), 100*r.ownCPU.Seconds()/r.elapsed.Seconds())
	}
	if hops > 0 && len(r.watchedCPU) > 0 {
		var parts []string
		total := r.ownCPU
		for _, p := range r.watchedCPU {
			parts = append(parts, fmt.Sprintf("%s %.1f", p.name, perHop(p.cpu)))
			if !p.part() {
				total += p.cpu
			}
		}
		fmt.Fprintf(w, "CPU µs per hop: %s; with the generator %.1f\n", strings.Join(parts, ", "), perHop(total))
	}
	if r.firstErr != "" {
		fmt.Fprintf(w, "first error: %s\n", r.firstErr)
	}
}

// printRatio prints the gateway's throughput as a fraction of the
// ceiling's, and both p99s.
func printRatio(w io.Writer, gateway, ceiling *result) {
	ratio := 0.0
	if c := ceiling.hopsPerSecond(); c > 0 {
		ratio = gateway.hopsPerSecond() / c
	}
	fmt.Fprintf(w, "ratio to the ceiling: %.2f (%.0f / %.0f hops/s); p99 %s against %s\n", ratio,
		gateway.hopsPerSecond(), ceiling.hopsPerSecond(), percentile(gateway.latencies, .99), percentile(ceiling.latencies, .99))
}

// serveCeiling serves constant screens for the default provider's hops, the
// way the smallest Go web service would (net/http, the provider's parse and
// render): what the machine can carry for the load's shape when the gateway
// does no work.
func serveCeiling(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("imis-loadgen ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:18081", "listen address")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ceiling serving on %s\n", ln.Addr())
	srv := &http.Server{Handler: ceilingHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ceilingHandler answers a hop whose input holds a number with an ending
// screen, any other with a menu, each of the gateway's usual length.
func ceilingHandler() http.Handler {
	wire := registry.Default().USSD
	menu := providers.Reply{Text: "Health insurance\n1. Check membership\n2. Claim status\n3. Language"}
	answer := providers.Reply{Text: "Juma Hassan Mrisho\nNo. 101203401\nCHF Family Basic: covered until 24 Jun 2027", End: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hop, err := wire.Parse(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reply := menu
		if len(hop.Text) > 2 {
			reply = answer
		}
		w.Header().Set("Content-Type", wire.ContentType)
		w.Write(wire.Render(hop, reply)) //nolint:errcheck
	})
}
