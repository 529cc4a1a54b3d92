package policystore_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

// Two instances share one database: each sees its own choices at once and
// the other's after a read of the changes, without asking PostgreSQL per
// look-up once loaded.
func TestLanguageIndexSharesChoicesBetweenInstances(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDatabase(t)
	s := openStore(t, db, policystore.Options{})
	if err := s.SetLanguage(ctx, "+255712000001", "fr"); err != nil {
		t.Fatal(err)
	}
	a, b := policystore.NewLanguageIndex(s), policystore.NewLanguageIndex(s)

	// Before its first read, an index asks PostgreSQL.
	if lang, ok, err := a.Language(ctx, "+255712000001"); lang != "fr" || !ok || err != nil {
		t.Fatalf("before loading: %q %v %v", lang, ok, err)
	}
	for _, x := range []*policystore.LanguageIndex{a, b} {
		if err := x.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if a.Len() != 1 {
		t.Fatalf("Len = %d, want 1", a.Len())
	}

	if err := a.SetLanguage(ctx, "+255712000002", "sw"); err != nil {
		t.Fatal(err)
	}
	if lang, ok, _ := a.Language(ctx, "+255712000002"); lang != "sw" || !ok {
		t.Fatalf("own choice: %q %v", lang, ok)
	}
	if _, ok, _ := b.Language(ctx, "+255712000002"); ok {
		t.Fatal("the other instance knew the choice before reading the changes")
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if lang, ok, _ := b.Language(ctx, "+255712000002"); lang != "sw" || !ok {
		t.Fatalf("other instance after reading: %q %v", lang, ok)
	}

	// A change of mind, and a number that differs only by a leading zero.
	if err := a.SetLanguage(ctx, "+255712000001", "ne"); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for phone, want := range map[string]string{"+255712000001": "ne", "+0255712000001": "", "+255712000003": ""} {
		if lang, ok, err := b.Language(ctx, phone); lang != want || ok != (want != "") || err != nil {
			t.Errorf("Language(%s) = %q %v %v, want %q", phone, lang, ok, err, want)
		}
	}

	// Once loaded, a look-up needs no database.
	s.Close()
	if lang, ok, err := b.Language(ctx, "+255712000002"); lang != "sw" || !ok || err != nil {
		t.Fatalf("with the database closed: %q %v %v", lang, ok, err)
	}
}

func TestLanguageIndexRunKeepsReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := openStore(t, pgtest.NewDatabase(t), policystore.Options{})
	x := policystore.NewLanguageIndex(s)
	done := make(chan struct{})
	go func() {
		x.Run(ctx, 10*time.Millisecond, slog.New(slog.DiscardHandler))
		close(done)
	}()
	if err := s.SetLanguage(ctx, "+22997000001", "fr"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for x.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the choice was not read within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}
