package gateway_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/openimis/imis-gateway/providers/simphone"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// TestOversizedHopsCostNeitherMemoryNorRedis: 1,500 hops each carrying 65 kB
// of Africa's Talking text, to sessions under way and to new ones, are each
// answered with a screen, and leave neither Redis nor the gateway's heap any
// bigger than a few kB per session: such a transcript ends its session.
func TestOversizedHopsCostNeitherMemoryNorRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("1,500 hops of 65 kB")
	}
	g := newGateway(t, harness{})
	const hops, workers = 1500, 4
	big := "1*" + strings.Repeat("7", 65000)
	session := func(i int) string { return fmt.Sprintf("ATUid_big_%d", i) }
	// Every other hop goes to a session under way.
	for i := 0; i < hops; i += 2 {
		mustCON(t, g.hop(session(i), stranger, ""))
	}
	before := liveHeap()

	var wg sync.WaitGroup
	replies := make([]reply, hops)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < hops; i += workers {
				replies[i] = g.hop(session(i), stranger, big)
			}
		})
	}
	wg.Wait()
	for i, r := range replies {
		if msg := mustEND(t, r); !strings.Contains(msg, "dial again") {
			t.Fatalf("hop %d: %q", i, msg)
		}
	}

	grown := liveHeap() - before
	stored, keys := redisUsage(t, g.prefix)
	t.Logf("after %d hops of %d bytes: live heap %+d kB, Redis %d bytes in %d keys", hops, len(big), grown>>10, stored, keys)
	if perSession := stored / hops; perSession > 2<<10 {
		t.Errorf("Redis holds %d bytes per session (%d in all)", perSession, stored)
	}
	if grown > 8<<20 {
		t.Errorf("the live heap grew by %d MB", grown>>20)
	}
	// The sessions under way ended: a new hop starts afresh.
	if menu := mustCON(t, g.hop(session(0), stranger, "")); !strings.Contains(menu, "1. Check membership") {
		t.Fatalf("after the session ended: %q", menu)
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// redisUsage sums MEMORY USAGE over the keys under prefix.
func redisUsage(t *testing.T, prefix string) (bytes int64, keys int) {
	t.Helper()
	ctx := context.Background()
	rdb := redistest.Client(t)
	iter := rdb.Scan(ctx, 0, prefix+":*", 500).Iterator()
	for iter.Next(ctx) {
		n, err := rdb.MemoryUsage(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatal(err)
		}
		bytes += n
		keys++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return bytes, keys
}

// TestOversizedInputIsAnInvalidChoice: an input no phone can send (1,000
// characters; a USSD string holds 182) is answered on every wire as a wrong
// input, on a menu and on a question, and the session goes on. The text is
// not stored; Africa's Talking's transcript keeps it, within its bound.
func TestOversizedInputIsAnInvalidChoice(t *testing.T) {
	g := newGateway(t, harness{})
	ctx := context.Background()
	long := strings.Repeat("7", 1000)
	for _, provider := range simphone.Providers {
		t.Run(provider, func(t *testing.T) {
			p, must := phone(t, g, provider), screenOf(t)
			must(p.Dial(ctx, ""))
			if s := must(p.Send(ctx, long)); s.End || !strings.Contains(s.Text, "Invalid choice.") || !strings.Contains(s.Text, "1. Check membership") {
				t.Fatalf("a long input on the main menu: %+v", s)
			}
			if s := must(p.Send(ctx, "1")); s.End || !strings.Contains(s.Text, "insurance number") {
				t.Fatalf("1 after it: %+v", s)
			}
			if s := must(p.Send(ctx, long)); s.End || !strings.Contains(s.Text, "letters or digits") {
				t.Fatalf("a long insurance number: %+v", s)
			}

			key := g.prefix + ":{" + provider + ":" + p.Session() + "}:s"
			rdb := redistest.Client(t)
			record, err := rdb.HGet(ctx, key, "r").Result()
			if err != nil {
				t.Fatal(err)
			}
			if provider != "africastalking" && strings.Contains(record, long[:200]) {
				t.Errorf("the long input is stored: %.300q", record)
			}
			// Africa's Talking's transcript is stored twice more, in the replay
			// key ("t:"+transcript) of the record and of the hash: with
			// providers.MaxTranscript, some 8 kB at most.
			limit := int64(1100) // a kilobyte, and Redis Cluster's cost per key
			if provider == "africastalking" {
				limit = 8 << 10
			}
			if n, err := rdb.MemoryUsage(ctx, key).Result(); err != nil || n > limit {
				t.Errorf("the session takes %d bytes in Redis (%v), want at most %d", n, err, limit)
			}

			if s := must(p.Send(ctx, "101203401")); !s.End || !strings.Contains(s.Text, "covered until") {
				t.Fatalf("the session did not go on: %+v", s)
			}
		})
	}
}

// TestInvalidUTF8InputGetsAScreen: bytes that are not UTF-8 in the user's
// input (a handset or network in another encoding) are answered on every wire
// as a wrong input rather than refused, which would end the caller's session
// with the aggregator's error; the session goes on, Africa's Talking's
// transcript included, whose later hops repeat the same bytes.
func TestInvalidUTF8InputGetsAScreen(t *testing.T) {
	g := newGateway(t, harness{})
	ctx := context.Background()
	for _, provider := range simphone.Providers {
		t.Run(provider, func(t *testing.T) {
			p, must := phone(t, g, provider), screenOf(t)
			must(p.Dial(ctx, ""))
			if s := must(p.Send(ctx, "\xff")); s.End || !strings.Contains(s.Text, "Invalid choice.") || !strings.Contains(s.Text, "1. Check membership") {
				t.Fatalf("\\xff on the main menu: %+v", s)
			}
			if s := must(p.Send(ctx, "1")); s.End || !strings.Contains(s.Text, "insurance number") {
				t.Fatalf("1 after it: %+v", s)
			}
			if s := must(p.Send(ctx, "10120\xc3\x283401")); s.End || !strings.Contains(s.Text, "letters or digits") {
				t.Fatalf("an insurance number with a broken byte: %+v", s)
			}
			if s := must(p.Send(ctx, "101203401")); !s.End || !strings.Contains(s.Text, "covered until") {
				t.Fatalf("the session did not go on: %+v", s)
			}
		})
	}
}
