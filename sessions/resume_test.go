package sessions_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/sessions"
)

const (
	resumePhone = "+255712000111"
	resumeCode  = "*384*1234#"
)

// resumeHop answers one hop of session id on the locked way (guess false) or from memory, leaving
// the menu state state and doing resume to the phone's resume point.
func resumeHop(t *testing.T, f *fixture, id, key, state string, resume sessions.Resume, guess bool) {
	t.Helper()
	ctx := context.Background()
	var (
		tx  *sessions.Tx
		err error
	)
	if guess {
		tx, err = f.store.Begin(ctx, sessions.Request{Provider: "at", SessionID: id, Key: key, Start: true})
	} else {
		tx, err = f.store.Acquire(ctx, "at", id, key)
	}
	if err != nil {
		t.Fatal(err)
	}
	if tx.Guessed() != guess {
		t.Fatalf("hop %s %s: guessed %v, want %v", id, key, tx.Guessed(), guess)
	}
	rec := tx.Record
	rec.Provider, rec.Phone, rec.ServiceCode, rec.Lang = "at", resumePhone, resumeCode, "sw"
	rec.Reply, rec.State = []byte("CON "+state), json.RawMessage(`"`+state+`"`)
	tx.Resume = resume
	if stored, err := f.store.Commit(ctx, tx, rec); err != nil || !stored {
		t.Fatalf("commit %s %s: %v %v", id, key, stored, err)
	}
}

// pointState returns the menu state of the phone's resume point, "" for none.
func pointState(t *testing.T, f *fixture) string {
	t.Helper()
	p, ok, err := f.store.ResumePointOf(context.Background(), resumePhone, resumeCode)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	var st string
	if err := json.Unmarshal(p.State, &st); err != nil {
		t.Fatal(err)
	}
	if p.Provider != "at" || p.Lang != "sw" || p.SessionID == "" {
		t.Errorf("point %+v: want provider, language and session", p)
	}
	return st
}

// TestResumePoints: what Commit and Release do to a phone's resume point, in the round trip of
// the save.
func TestResumePoints(t *testing.T) {
	type hop struct {
		session, key, state string
		resume              sessions.Resume
	}
	tests := []struct {
		name string
		hops []hop
		want string
	}{
		{"kept at the last answered screen", []hop{{"A", "1", "ask", sessions.ResumeKeep}, {"A", "2", "amount", sessions.ResumeKeep}}, "amount"},
		{"left as it was", []hop{{"A", "1", "ask", sessions.ResumeKeep}, {"A", "2", "main", sessions.ResumeUnchanged}}, "ask"},
		{"forgotten on a final screen", []hop{{"A", "1", "ask", sessions.ResumeKeep}, {"A", "2", "done", sessions.ResumeForget}}, ""},
		{"a newer session replaces it", []hop{{"A", "1", "ask", sessions.ResumeKeep}, {"B", "1", "claims", sessions.ResumeKeep}}, "claims"},
		{"a newer session forgets it", []hop{{"A", "1", "ask", sessions.ResumeKeep}, {"B", "1", "main", sessions.ResumeForget}}, ""},
		{"nothing written", []hop{{"A", "1", "main", sessions.ResumeUnchanged}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, sessions.Options{})
			for _, h := range tt.hops {
				resumeHop(t, f, h.session, h.key, h.state, h.resume, false)
			}
			if got := pointState(t, f); got != tt.want {
				t.Errorf("point at %q, want %q", got, tt.want)
			}
		})
	}
}

// TestResumePointNeverGoesBack: a write of the same session from an earlier hop (a guess that lost
// its compare-and-set ran its pipeline all the same) neither brings an older screen back nor a
// forgotten point.
func TestResumePointNeverGoesBack(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	other := &fixture{rdb: f.rdb, prefix: f.prefix, store: sessions.New(f.rdb, sessions.Options{Prefix: f.prefix})} // a second instance
	resumeHop(t, f, "A", "1", "ask", sessions.ResumeKeep, true)
	resumeHop(t, other, "A", "2", "amount", sessions.ResumeKeep, false)
	resumeHop(t, other, "A", "3", "done", sessions.ResumeForget, false)

	// f still remembers hop 1 and guesses hop 2 from it: its commit fails, its resume write is
	// refused by the count of hops.
	ctx := context.Background()
	tx, err := f.store.Begin(ctx, sessions.Request{Provider: "at", SessionID: "A", Key: "2b"})
	if err != nil || !tx.Guessed() {
		t.Fatalf("want a guess: %v", err)
	}
	rec := tx.Record
	rec.State, tx.Resume = json.RawMessage(`"stale"`), sessions.ResumeKeep
	if stored, err := f.store.Commit(ctx, tx, rec); err != nil || stored {
		t.Fatalf("stale guess stored: %v %v", stored, err)
	}
	if got := pointState(t, f); got != "" {
		t.Errorf("point at %q after a stale write, want none", got)
	}
}

// TestResumePointForgottenOnRelease: a refused hop forgets the point in the round trip that
// releases its lock.
func TestResumePointForgottenOnRelease(t *testing.T) {
	f := newFixture(t, sessions.Options{})
	ctx := context.Background()
	resumeHop(t, f, "A", "1", "ask", sessions.ResumeKeep, false)
	tx, err := f.store.Acquire(ctx, "at", "A", "2")
	if err != nil {
		t.Fatal(err)
	}
	tx.Resume = sessions.ResumeForget
	if err := f.store.Release(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if f.locked(t, "A") {
		t.Error("lock kept")
	}
	if got := pointState(t, f); got != "" {
		t.Errorf("point at %q after a refusal, want none", got)
	}
}

// TestResumeWindow: a point lives ResumeWindow after the hop that wrote it; a negative window
// writes and reads nothing.
func TestResumeWindow(t *testing.T) {
	for _, tt := range []struct {
		window time.Duration
		wait   time.Duration
		want   string
	}{
		{window: 200 * time.Millisecond, want: "ask"},
		{window: 200 * time.Millisecond, wait: 300 * time.Millisecond, want: ""},
		{window: -1, want: ""},
	} {
		f := newFixture(t, sessions.Options{ResumeWindow: tt.window})
		resumeHop(t, f, "A", "1", "ask", sessions.ResumeKeep, false)
		time.Sleep(tt.wait)
		if got := pointState(t, f); got != tt.want {
			t.Errorf("window %v, after %v: point at %q, want %q", tt.window, tt.wait, got, tt.want)
		}
		if want := max(tt.window, 0); f.store.ResumeWindow() != want {
			t.Errorf("ResumeWindow() = %v, want %v", f.store.ResumeWindow(), want)
		}
	}
}
