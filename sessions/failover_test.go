package sessions_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// The failover bounds the README promises ("Redis failover"), for the test topologies of
// scripts/redis-ha.sh, whose masters are replaced after 1 s of silence (IMIS_REDIS_HA_TIMEOUT):
// sessions are served again at most failoverRecovery after a master is killed or frozen (2.5 to 3 s
// on an idle machine; the bound leaves room for a loaded one), and no save that waited for a
// replica and was acknowledged is lost.
const failoverRecovery = 30 * time.Second

// TestFailover replaces the master that holds the sessions while hops go on, for each topology, and
// checks the bounds above, in two ways:
//   - kill: the master dies (SIGKILL), and its replica is promoted;
//   - freeze: the master stops answering (SIGSTOP) until its replica is promoted, then comes back
//     believing it is still the master, and takes saves until it learns otherwise and becomes a
//     replica, dropping them. Only the saves that waited for a replica are sure to survive that.
//
// It breaks servers, so it runs only on topologies of its own, when IMIS_TEST_REDIS_FAILOVER is set
// (make test-redis-ha does so, after the other tests).
func TestFailover(t *testing.T) {
	if os.Getenv("IMIS_TEST_REDIS_FAILOVER") == "" {
		t.Skip("kills Redis masters: run by `make test-redis-ha` (IMIS_TEST_REDIS_FAILOVER=1)")
	}
	for _, topology := range []struct{ name, env string }{
		{"cluster", "IMIS_TEST_REDIS_CLUSTER_URL"},
		{"sentinel", "IMIS_TEST_REDIS_SENTINEL_URL"},
	} {
		for _, how := range []string{"kill", "freeze"} {
			t.Run(topology.name+"/"+how, func(t *testing.T) {
				url := os.Getenv(topology.env)
				if url == "" {
					t.Fatalf("%s is not set: start the topologies with scripts/redis-ha.sh up", topology.env)
				}
				testFailover(t, topology.name, how, url)
			})
		}
	}
}

func testFailover(t *testing.T, topology, how, url string) {
	rdb, err := sessions.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	// Every hop the locked way, so that every hop asks Redis.
	store := redistest.NewStore(t, rdb, sessions.Options{Recent: -1})

	run := newTraffic(store)
	stop := run.start(8)
	time.Sleep(time.Second) // steady traffic first

	killed := haScript(t, how+"-master", topology)
	killedAt := time.Now()
	if how == "kill" {
		t.Cleanup(func() {
			haScript(t, "restart", killed)
			haScript(t, "wait", topology)
		})
	} else {
		t.Cleanup(func() { haScript(t, "wait", topology) })
		waitForNewMaster(t, topology, killed)
		t.Logf("%s: a new master %v after the freeze", topology, time.Since(killedAt).Round(10*time.Millisecond))
		time.Sleep(time.Second)
		haScript(t, "thaw", killed)
	}
	// Hops go on until the sessions have been served without error for a while.
	for time.Since(killedAt) < 30*time.Second {
		time.Sleep(250 * time.Millisecond)
		if last := run.lastError(); last.After(killedAt) && time.Since(last) > 3*time.Second {
			break
		}
	}
	stop()

	recovery := max(run.lastError().Sub(killedAt), 0)
	t.Logf("%s: master on port %s: %s; hops failed for %v (%d failed, %d answered); acknowledged saves: %d that waited for a replica, %d that did not",
		topology, killed, how, recovery.Round(10*time.Millisecond), run.failed, run.answered, len(run.durable), len(run.plain))
	for _, e := range run.errorKinds() {
		t.Logf("  %5d × %s, from %v to %v after", e.n, e.text, e.first.Sub(killedAt).Round(10*time.Millisecond), e.last.Sub(killedAt).Round(10*time.Millisecond))
	}
	if recovery > failoverRecovery {
		t.Errorf("sessions served again %v after the kill, want at most %v", recovery, failoverRecovery)
	}
	if run.answered == 0 {
		t.Fatal("no hop was answered")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lostDurable, lostPlain := 0, 0
	for key, acked := range run.durable {
		if stored := storedHops(ctx, t, rdb, store, key); stored < acked {
			lostDurable++
			t.Errorf("session %s: %d hops acknowledged by a replica, %d stored after the failover", key, acked, stored)
		}
	}
	for key, acked := range run.plain {
		if storedHops(ctx, t, rdb, store, key) < acked {
			lostPlain++
		}
	}
	t.Logf("%s, %s: lost after the failover: %d of %d saves that waited for a replica, %d of %d that did not",
		topology, how, lostDurable, len(run.durable), lostPlain, len(run.plain))
}

// traffic runs sessions against a store: half counted (their saves wait for a replica), half keyed
// (their saves do not), a few hops each. A hop that fails ends its session, as a caller shown
// "temporarily unavailable" hangs up.
type traffic struct {
	store *sessions.Store

	mu       sync.Mutex
	failed   int
	answered int
	lastErr  time.Time
	durable  map[string]int // session -> hops acknowledged, for saves that waited for a replica
	plain    map[string]int // the same for saves that did not
	errs     map[string]*errorKind
}

// errorKind is one kind of error the hops met: how often, first and last.
type errorKind struct {
	text        string
	n           int
	first, last time.Time
}

// errorKinds returns the kinds of error met, the first met first.
func (r *traffic) errorKinds() []*errorKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	kinds := make([]*errorKind, 0, len(r.errs))
	for _, e := range r.errs {
		kinds = append(kinds, e)
	}
	slices.SortFunc(kinds, func(a, b *errorKind) int { return a.first.Compare(b.first) })
	return kinds
}

func newTraffic(store *sessions.Store) *traffic {
	return &traffic{store: store, durable: map[string]int{}, plain: map[string]int{}, errs: map[string]*errorKind{}}
}

func (r *traffic) start(workers int) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				r.session(fmt.Sprintf("w%d-%d", w, n), n%2 == 0)
			}
		})
	}
	return func() { close(done); wg.Wait() }
}

func (r *traffic) session(id string, counted bool) {
	provider := "at"
	if counted {
		provider = "nalo"
	}
	for hop := 1; hop <= 5; hop++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := r.hop(ctx, sessions.Request{Provider: provider, SessionID: id, Key: strconv.Itoa(hop), Counted: counted})
		cancel()
		r.mu.Lock()
		if err != nil {
			r.failed++
			r.lastErr = time.Now()
			// The session id and numbers vary; the kind is the error's last words.
			text := err.Error()
			if i := strings.LastIndex(text, ": "); i >= 0 && !errors.Is(err, sessions.ErrNotReplicated) {
				text = text[i+2:]
			} else if errors.Is(err, sessions.ErrNotReplicated) {
				text = sessions.ErrNotReplicated.Error()
			}
			e := r.errs[text]
			if e == nil {
				e = &errorKind{text: text, first: r.lastErr}
				r.errs[text] = e
			}
			e.n++
			e.last = r.lastErr
			r.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			return
		}
		r.answered++
		acked := r.plain
		if counted {
			acked = r.durable
		}
		acked[provider+":"+id] = hop
		r.mu.Unlock()
	}
}

func (r *traffic) hop(ctx context.Context, req sessions.Request) error {
	tx, err := r.store.Begin(ctx, req)
	if err != nil {
		return err
	}
	defer r.store.Release(ctx, tx) //nolint:errcheck // the lock expires anyway
	if tx.Replay {
		return errors.New("a new hop was taken for a replay")
	}
	_, err = r.store.Commit(ctx, tx, sessions.Record{Provider: req.Provider, Reply: []byte("CON hop " + req.Key)})
	return err
}

func (r *traffic) lastError() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

// storedHops reads a session's count of answered hops ("provider:id") from Redis.
func storedHops(ctx context.Context, t *testing.T, rdb *sessions.Client, store *sessions.Store, session string) int {
	provider, id, _ := strings.Cut(session, ":")
	key := sessions.SessionKey(store, provider, id)
	v, err := rdb.HGet(ctx, key, "h").Result()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(v)
	return n
}

// waitForNewMaster waits until the topology has promoted another master than the one on port old.
func waitForNewMaster(t *testing.T, topology, old string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if m := haScript(t, "master", topology); m != "" && m != old {
			return
		}
	}
	t.Fatalf("%s: no new master within 30s of freezing the one on port %s", topology, old)
}

// haScript runs scripts/redis-ha.sh and returns what it printed.
func haScript(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("../scripts/redis-ha.sh", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/redis-ha.sh %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}
