// Package redistest gives tests a real Redis: the project's shared test instance (with a key prefix
// per test, never a flushed database) or a dedicated redis-server process a test may stop and restart.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/sessions"
)

// EnvURL names the environment variable with the test Redis's URL; DefaultURL is the instance
// `make services` (scripts/services.sh) starts.
const (
	EnvURL     = "IMIS_TEST_REDIS_URL"
	DefaultURL = "redis://127.0.0.1:56379/0"
)

// URL returns the test Redis's URL.
func URL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// Client connects to the test Redis and closes the client when the test ends. An unreachable Redis
// fails the test: the suite needs it, and skipping would hide that.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	rdb, err := sessions.NewClient(URL())
	if err != nil {
		t.Fatalf("redistest: %s: %v", EnvURL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("redistest: test Redis at %s is unreachable: %v\n"+
			"Run `make services` to start it, or set %s to a running Redis.", sessions.RedactURL(URL()), err, EnvURL)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// Prefix returns a key prefix unique to this test run, for sessions.Options.Prefix.
func Prefix(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '/', r == '.':
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 60 {
		name = name[:60]
	}
	return "imisgw-test:" + name + ":" + hex.EncodeToString(b[:])
}

// NewStore returns a Store on rdb with a test-unique prefix (unless opt sets one) and deletes the
// prefix's keys when the test ends.
func NewStore(t testing.TB, rdb redis.UniversalClient, opt sessions.Options) *sessions.Store {
	t.Helper()
	if opt.Prefix == "" {
		opt.Prefix = Prefix(t)
	}
	t.Cleanup(func() {
		if err := DeleteKeys(rdb, opt.Prefix+":*"); err != nil {
			t.Logf("redistest: cleanup of %s: %v", opt.Prefix, err)
		}
	})
	return sessions.New(rdb, opt)
}

// Store returns a Store with default options on the test Redis, under a test-unique prefix.
func Store(t testing.TB) *sessions.Store {
	t.Helper()
	return NewStore(t, Client(t), sessions.Options{})
}

// DeleteKeys deletes the keys matching a SCAN pattern, on every master of a cluster.
func DeleteKeys(rdb redis.UniversalClient, pattern string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	del := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if c, ok := rdb.(*sessions.Client); ok {
		rdb = c.UniversalClient
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return del(ctx, c) })
	}
	return del(ctx, rdb)
}

// Server is a redis-server process of the test's own, without persistence, on a loopback port.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{} // closed when cmd has exited
	log  *syncBuffer
}

// StartServer starts a dedicated redis-server (from PATH) on a free loopback port and waits until it
// answers PING. It is killed when the test ends. Call its methods from the test's goroutine.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server not found in PATH (install redis-server): %v", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.Stop)
	// Another process may take the free port before redis-server binds it; try a few.
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		err = s.start()
		if err == nil {
			return s
		}
		if attempt == 5 {
			t.Fatalf("redistest: %v", err)
		}
	}
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Stop kills the server (SIGKILL, as a crash would) and waits for it to exit. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}

// Start restarts a stopped server on the same port, empty, and waits until it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redis-server already running")
	}
	s.log = &syncBuffer{}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
		"--loglevel", "warning",
	)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exit := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exit)
	}()

	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(s.Addr(), cmd.Process.Pid) == nil {
			s.cmd, s.exit = cmd, exit
			return nil
		}
		select {
		case <-exit:
			return fmt.Errorf("redis-server on port %d exited: %s", s.port, s.log.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exit
			return fmt.Errorf("redis-server on port %d did not answer PING within 10s: %s", s.port, s.log.String())
		}
	}
}

// ping checks that the redis-server with process id pid answers on addr: the port may have been
// taken by another process between freePort and the server's bind.
func ping(addr string, pid int) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
	if !strings.HasPrefix(head, "$") || err != nil || n < 0 {
		return fmt.Errorf("INFO answered %q", head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	if !bytes.Contains(body, []byte("\nprocess_id:"+strconv.Itoa(pid)+"\r\n")) {
		return fmt.Errorf("another process answers on %s", addr)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
