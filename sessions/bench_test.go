package sessions_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

// benchRecord is a session as large as a real one: a full screen and a few fields of menu state.
var benchRecord = sessions.Record{
	Provider: "at", Phone: "+255700000001", ServiceCode: "*384*1#", Lang: "sw",
	Reply: []byte("CON Policy of Juma Hamisi (070707070)\nCHF Basic: expired 2025-12-31\n" +
		"Amount due: 10,000 TZS\nEnter receipt number:\n0 Back  00 Menu"),
	State: json.RawMessage(`{"menu":"renew.receipt","chfid":"070707070","product":"CHF1","family":1042,"due":10000}`),
}

// benchHop is one navigation hop on a fresh key, the locked way: Begin (lock) and Commit (unlock),
// two round trips.
func benchHop(b *testing.B, store *sessions.Store, id string, n int) {
	ctx := context.Background()
	key := "1*" + strconv.Itoa(n)
	tx, err := store.Begin(ctx, sessions.Request{Provider: "at", SessionID: id, Key: key})
	if err != nil || tx.Replay || tx.Guessed() {
		b.Fatalf("Begin: replay %v, guessed %v, err %v", tx != nil && tx.Replay, tx.Guessed(), err)
	}
	rec := benchRecord
	rec.Transcript = key
	if stored, err := store.Commit(ctx, tx, rec); !stored || err != nil {
		b.Fatalf("Commit: stored %v, err %v", stored, err)
	}
}

// optimisticBenchHop is one navigation hop from this process's memory of the session: one round trip.
func optimisticBenchHop(b *testing.B, store *sessions.Store, id string, n int) {
	ctx := context.Background()
	key := "1*" + strconv.Itoa(n)
	tx, err := store.Begin(ctx, sessions.Request{Provider: "at", SessionID: id, Key: key, Start: n == 1})
	if err != nil || !tx.Guessed() {
		b.Fatalf("Begin: not from memory (%v)", err)
	}
	rec := benchRecord
	rec.Transcript = key
	if stored, err := store.Commit(ctx, tx, rec); !stored || err != nil {
		b.Fatalf("Commit: stored %v, err %v", stored, err)
	}
}

// BenchmarkAcquireSave: the locked way, on a store that remembers no session.
func BenchmarkAcquireSave(b *testing.B) { benchHops(b, sessions.Options{Recent: -1}, benchHop) }

func BenchmarkOptimisticHop(b *testing.B) { benchHops(b, sessions.Options{}, optimisticBenchHop) }

// benchHops plays hops of one session serially, and of one session per goroutine in parallel.
func benchHops(b *testing.B, opt sessions.Options, hop func(b *testing.B, store *sessions.Store, id string, n int)) {
	store := redistest.NewStore(b, redistest.Client(b), opt)
	var sessionsStarted atomic.Int64 // across the runs of a sub-benchmark: each plays new sessions
	newSession := func(kind string) string {
		return kind + "-" + strconv.FormatInt(sessionsStarted.Add(1), 10)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		id, n := newSession("serial"), 0
		for b.Loop() {
			n++
			hop(b, store, id, n)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			id, n := newSession("parallel"), 0
			for pb.Next() {
				n++
				hop(b, store, id, n)
			}
		})
	})
}

func BenchmarkReplay(b *testing.B) {
	store := redistest.Store(b)
	ctx := context.Background()
	benchHop(b, store, "s", 1)
	replay := func(b *testing.B) {
		tx, err := store.Begin(ctx, sessions.Request{Provider: "at", SessionID: "s", Key: "1*1"})
		if err != nil || !tx.Replay {
			b.Fatalf("Begin: replay %v, err %v", tx != nil && tx.Replay, err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			replay(b)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				replay(b)
			}
		})
	})
}

// BenchmarkRecordJSON is the encoding's share of a hop: a Commit's encode and a Begin's decode.
func BenchmarkRecordJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		data, err := json.Marshal(&benchRecord)
		if err != nil {
			b.Fatal(err)
		}
		var rec sessions.Record
		if err := json.Unmarshal(data, &rec); err != nil {
			b.Fatal(err)
		}
	}
}
