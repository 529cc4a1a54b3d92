package sessions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// These tests run each script twice with the same arguments, as go-redis does when a reply is lost
// to a broken connection after Redis executed the command. (They cannot use redistest, which imports
// this package.)

func internalStore(t *testing.T) (*Store, redis.UniversalClient) {
	t.Helper()
	url := os.Getenv("IMIS_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:56379/0"
	}
	rdb, err := NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("test Redis unreachable: %v; run `make services`, or set IMIS_TEST_REDIS_URL", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := New(rdb, Options{Prefix: "imisgw-test:" + t.Name() + ":" + hex.EncodeToString(b[:])})
	t.Cleanup(func() {
		keys, _ := s.keyNames("at", "s")
		rdb.Del(context.Background(), keys[0], keys[1])
	})
	return s, rdb
}

func TestScriptsSurviveRetries(t *testing.T) {
	s, rdb := internalStore(t)
	ctx := context.Background()

	l, err := s.Acquire(ctx, "at", "s", "")
	if err != nil {
		t.Fatal(err)
	}
	// Acquire retried: the lock is already ours.
	if status, _, _, err := s.tryAcquire(ctx, l, "", false, nil); err != nil || status != statusLocked {
		t.Fatalf("repeated acquire: status %d, err %v; want the lock", status, err)
	}
	// Another hop's token does not get it.
	other := &Tx{keys: l.keys, token: s.newToken()}
	if status, _, _, err := s.tryAcquire(ctx, other, "1", false, nil); err != nil || status != statusBusy {
		t.Fatalf("acquire by another hop: status %d, err %v; want busy", status, err)
	}

	rec := Record{LastKey: "", Reply: []byte("CON Welcome")}
	if err := s.Save(ctx, l, rec); err != nil {
		t.Fatal(err)
	}
	// Save retried: the record it stored is there, the lock gone; still a success.
	l.done = false
	if err := s.Save(ctx, l, rec); err != nil {
		t.Fatalf("repeated save: %v", err)
	}
	// But not a different record.
	l.done = false
	if err := s.Save(ctx, l, Record{LastKey: "x"}); !errors.Is(err, ErrLockLost) {
		t.Fatalf("save of another record without the lock: %v, want ErrLockLost", err)
	}
	if n := rdb.Exists(ctx, l.keys[1]).Val(); n != 0 {
		t.Fatal("lock left behind")
	}

	// Release retried: the second run finds no lock of ours and does nothing.
	l2, err := s.Acquire(ctx, "at", "s", "1")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		l2.done = false
		if err := s.Release(ctx, l2); err != nil {
			t.Fatal(err)
		}
	}
	l3, err := s.Acquire(ctx, "at", "s", "2")
	if err != nil {
		t.Fatal(err)
	}
	l2.done = false
	if err := s.Release(ctx, l2); err != nil { // a stale release must not free l3's lock
		t.Fatal(err)
	}
	if n := rdb.Exists(ctx, l3.keys[1]).Val(); n != 1 {
		t.Fatal("a stale release freed another hop's lock")
	}
	_ = s.Release(ctx, l3)
}

func TestKeyNames(t *testing.T) {
	s := New(nil, Options{})
	keys, err := s.keyNames("at", "ATUid_1")
	if err != nil {
		t.Fatal(err)
	}
	if keys != [2]string{"imisgw:{at:ATUid_1}:s", "imisgw:{at:ATUid_1}:l"} {
		t.Fatalf("keys %q", keys)
	}
	for _, id := range []string{"ATUid_1", "a}b", "{x}", "x{"} {
		keys, _ := s.keyNames("hubtel", id)
		if a, b := hashTag(keys[0]), hashTag(keys[1]); a != b || a == keys[0] {
			t.Errorf("session %q: keys %q hash %q and %q", id, keys, a, b)
		}
	}
}

func TestDecodeCorruptRecord(t *testing.T) {
	s, rdb := internalStore(t)
	ctx := context.Background()
	keys, _ := s.keyNames("at", "s")
	rdb.HSet(ctx, keys[0], "k", "old", "r", "{corrupt")
	if _, err := s.Acquire(ctx, "at", "s", "new"); err == nil {
		t.Fatal("Acquire of a corrupt record: no error")
	}
	if n := rdb.Exists(ctx, keys[1]).Val(); n != 0 {
		t.Fatal("Acquire of a corrupt record kept the lock")
	}
	if _, err := s.Acquire(ctx, "at", "s", "old"); err == nil {
		t.Fatal("replay of a corrupt record: no error")
	}
}

// hashTag returns the part of key Redis Cluster hashes (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags).
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}
