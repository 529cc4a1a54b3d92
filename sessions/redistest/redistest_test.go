package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/sessions"
	"github.com/openimis/imis-gateway/sessions/redistest"
)

func TestServerStopStart(t *testing.T) {
	srv := redistest.StartServer(t)
	rdb, err := sessions.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()

	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		return rdb.Ping(ctx).Err()
	}
	if err := ping(); err != nil {
		t.Fatalf("ping a started server: %v", err)
	}
	srv.Stop()
	if err := ping(); err == nil {
		t.Fatal("ping a stopped server: no error")
	}
	srv.Stop() // idempotent
	srv.Start()
	if err := ping(); err != nil {
		t.Fatalf("ping a restarted server: %v", err)
	}
	if !strings.HasPrefix(srv.URL(), "redis://127.0.0.1:") {
		t.Errorf("URL() = %q", srv.URL())
	}
}

func TestStoreIsolation(t *testing.T) {
	rdb := redistest.Client(t)
	a, b := redistest.Prefix(t), redistest.Prefix(t)
	if a == b {
		t.Fatalf("two prefixes are equal: %q", a)
	}
	if strings.ContainsAny(a, "{}*?[]") {
		t.Fatalf("prefix %q has hash-tag or glob characters", a)
	}

	ctx := context.Background()
	var store *sessions.Store
	t.Run("inner", func(t *testing.T) {
		store = redistest.NewStore(t, rdb, sessions.Options{Prefix: a})
		tx, err := store.Begin(ctx, sessions.Request{Provider: "at", SessionID: "s1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Commit(ctx, tx, sessions.Record{Reply: []byte("CON hi")}); err != nil {
			t.Fatal(err)
		}
		if n := rdb.Exists(ctx, a+":{at:s1}:s").Val(); n != 1 {
			t.Fatalf("session key missing under prefix %q", a)
		}
	})
	// The subtest's cleanup deleted its keys.
	if n := rdb.Exists(ctx, a+":{at:s1}:s").Val(); n != 0 {
		t.Fatalf("session key left behind after cleanup")
	}
}
