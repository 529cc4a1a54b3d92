package gateway_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

const unavailable = "temporarily unavailable"

// slack is what a deadline check tolerates on top of the deadline: enough for
// a loaded machine's scheduling, far too little to hide a hang.
const slack = time.Second

// TestRedisDownAnswersThenRecovers stops the Redis instance under a running
// gateway: hops still get a well-formed END in time, and the gateway serves
// again by itself once Redis is back.
func TestRedisDownAnswersThenRecovers(t *testing.T) {
	redisServer := redistest.StartServer(t)
	rdb, err := sessions.NewClient(redisServer.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	const deadline = 2 * time.Second
	g := newGateway(t, harness{redis: rdb, deadline: deadline})
	mustCON(t, g.hop("ATUid_r1", stranger, ""))

	redisServer.Stop()
	start := time.Now()
	msg := mustEND(t, g.hop("ATUid_r1", stranger, "1"))
	if !strings.Contains(msg, unavailable) {
		t.Fatalf("with Redis down: %q", msg)
	}
	// The slack catches a hang, not slowness: a loaded CI machine may add a second.
	if took := time.Since(start); took > deadline+slack {
		t.Fatalf("answered after %s, past the %s deadline", took, deadline)
	}
	if r := g.get("/readyz"); r.status != 503 || !strings.Contains(r.body, `"redis":"unavailable`) {
		t.Fatalf("readyz with Redis down: %d %s", r.status, r.body)
	}

	redisServer.Start()
	eventually(t, 10*time.Second, func() bool {
		return strings.HasPrefix(g.hop("ATUid_r2", stranger, "").body, "CON ")
	})
}

// TestPostgresDownAnswersThenRecovers cuts every connection to PostgreSQL,
// then lets them through again.
func TestPostgresDownAnswersThenRecovers(t *testing.T) {
	proxy := newTCPProxy(t, seededDatabase(t))
	g := newGateway(t, harness{databaseURL: proxy.databaseURL, deadline: 2 * time.Second})
	mustEND(t, g.hop("ATUid_p1", stranger, "1*48213"))

	proxy.cut()
	msg := mustEND(t, g.hop("ATUid_p2", stranger, "1*48213"))
	if !strings.Contains(msg, unavailable) {
		t.Fatalf("with PostgreSQL down: %q", msg)
	}
	// Navigation needs no SQL, so it goes on.
	mustCON(t, g.hop("ATUid_p3", stranger, "1"))

	proxy.restore()
	eventually(t, 10*time.Second, func() bool {
		return strings.Contains(g.hop("ATUid_p4", stranger, "1*48213").body, "48213")
	})
}

// TestHopDeadlineHoldsWhenPostgresHangs: PostgreSQL accepts but never
// answers; the hop still answers, within its deadline.
func TestHopDeadlineHoldsWhenPostgresHangs(t *testing.T) {
	proxy := newTCPProxy(t, seededDatabase(t))
	const deadline = time.Second
	g := newGateway(t, harness{databaseURL: proxy.databaseURL, deadline: deadline})
	mustEND(t, g.hop("ATUid_h1", stranger, "1*48213"))

	proxy.hang()
	start := time.Now()
	msg := mustEND(t, g.hop("ATUid_h2", stranger, "1*48213"))
	took := time.Since(start)
	if !strings.Contains(msg, unavailable) {
		t.Fatalf("with PostgreSQL hanging: %q", msg)
	}
	if took > deadline+slack {
		t.Fatalf("answered after %s, past the %s deadline", took, deadline)
	}
	proxy.restore()
	eventually(t, 10*time.Second, func() bool {
		return strings.Contains(g.hop("ATUid_h3", stranger, "1*48213").body, "48213")
	})
}

type panickingSource struct{}

func (panickingSource) Coverage(context.Context, string, time.Time) (openimis.Coverage, error) {
	panic("bug in a coverage source")
}

func TestPanicInAHopStillAnswersEND(t *testing.T) {
	g := newGateway(t, harness{source: panickingSource{}})
	msg := mustEND(t, g.hop("ATUid_panic", stranger, "1*48213"))
	if !strings.Contains(msg, unavailable) {
		t.Fatalf("after a panic: %q", msg)
	}
	mustCON(t, g.hop("ATUid_after_panic", stranger, ""))
}

func eventually(t *testing.T, within time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("not recovered within %s", within)
}

// tcpProxy stands between the gateway and PostgreSQL so a test can cut the
// connections or make them hang, without stopping the shared server.
type tcpProxy struct {
	ln          net.Listener
	upstream    string
	databaseURL string

	mu      sync.Mutex
	mode    string // "", "cut" or "hang"
	resumed chan struct{}
	conns   map[net.Conn]struct{}
}

// newTCPProxy proxies the database at databaseURL; p.databaseURL reaches
// it through the proxy.
func newTCPProxy(t *testing.T, databaseURL string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, upstream: u.Host, conns: map[net.Conn]struct{}{}, resumed: make(chan struct{})}
	u.Host = ln.Addr().String()
	p.databaseURL = u.String()
	close(p.resumed)
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	go p.accept()
	return p
}

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		if mode == "cut" {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.track(c, up)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

func (p *tcpProxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
}

// pipe copies src to dst, holding data back while the proxy hangs.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			resumed := p.resumed
			p.mu.Unlock()
			<-resumed
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	p.mode = "cut"
	p.mu.Unlock()
	p.closeAll()
}

func (p *tcpProxy) hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = "hang"
	p.resumed = make(chan struct{})
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == "hang" {
		close(p.resumed)
	}
	p.mode = ""
}

func (p *tcpProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}
