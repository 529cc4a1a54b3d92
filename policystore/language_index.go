package policystore

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// languageChangesSQL reads the choices made since a moment, by the index
// of migration 00007. The first read, from the zero time, reads them all.
const languageChangesSQL = `
SELECT phone, lang, updated_at FROM imis_gateway.phone_language
WHERE updated_at >= $1 ORDER BY updated_at`

// languageLookBack is how far before the newest change already read the
// next read starts again. A choice is stamped with its statement's start
// but seen only once committed, so one stamped a little earlier may commit
// after a later one was read; a statement lasts at most the query timeout.
const languageLookBack = time.Minute

// firstLanguageLoadTimeout bounds the first read of the language table.
const firstLanguageLoadTimeout = time.Minute

// DefaultLanguageRefresh is how often a LanguageIndex reads the choices
// made through other gateway instances.
const DefaultLanguageRefresh = time.Second

// LanguageIndex keeps every phone's chosen language in memory, so that a
// session or an SMS learns its caller's language without a round trip:
// most callers never chose one, and on a public service code nearly every
// session comes from a number not seen for hours. It reads the gateway's
// table once, then what changed, every DefaultLanguageRefresh (Run); a
// choice made through this instance is seen at once, one made through
// another within that interval. Until the first read succeeds, each
// look-up asks PostgreSQL.
//
// A phone costs about eight bytes: its E.164 number and its language packed
// in a uint64, in a sorted slice (a Go map took 35 bytes a phone, 35 MB for
// a million). Changes go to a small map first and are merged into the slice
// in batches. It implements menus.LanguageStore.
type LanguageIndex struct {
	store *Store

	mu     sync.RWMutex
	loaded bool
	sorted []uint64         // packPhone(phone)<<8 | language number, by phone
	recent map[uint64]uint8 // changes not merged into sorted yet, by packPhone(phone)
	codes  []string         // language codes by number
	code   map[string]uint8 // and their numbers
	since  time.Time        // where the next read of changes starts
}

// mergeRecentAt is the number of changes kept apart before they are merged
// into the sorted slice: a merge copies the slice, so not at every change.
const mergeRecentAt = 4096

// NewLanguageIndex returns an index over s's language table; Load or Run
// fills it.
func NewLanguageIndex(s *Store) *LanguageIndex {
	return &LanguageIndex{store: s, recent: map[uint64]uint8{}, code: map[string]uint8{}}
}

// Language returns the language phone chose; ok is false when none.
func (x *LanguageIndex) Language(ctx context.Context, phone string) (string, bool, error) {
	key, packed := packPhone(phone)
	x.mu.RLock()
	loaded := x.loaded
	n, ok := x.lookup(key)
	var lang string
	if ok {
		lang = x.codes[n]
	}
	x.mu.RUnlock()
	if !loaded || !packed {
		return x.store.Language(ctx, phone)
	}
	return lang, ok, nil
}

// SetLanguage stores the choice in PostgreSQL, then in the index.
func (x *LanguageIndex) SetLanguage(ctx context.Context, phone, lang string) error {
	if err := x.store.SetLanguage(ctx, phone, lang); err != nil {
		return err
	}
	x.mu.Lock()
	x.put(phone, lang)
	if len(x.recent) >= mergeRecentAt {
		x.merge()
	}
	x.mu.Unlock()
	return nil
}

// Len is the number of phones in the index.
func (x *LanguageIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.sorted)
	for key := range x.recent {
		if _, merged := x.find(key); !merged {
			n++
		}
	}
	return n
}

// Load reads the choices made since the last read (all of them the first
// time).
func (x *LanguageIndex) Load(ctx context.Context) error {
	x.mu.RLock()
	since, loaded := x.since, x.loaded
	x.mu.RUnlock()

	// The first read takes every choice ever made: a million phones take
	// seconds, not the query timeout of a look-up.
	timeout := x.store.queryTimeout
	if !loaded {
		timeout = max(timeout, firstLanguageLoadTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rows, err := x.store.pool.Query(ctx, languageChangesSQL, since)
	if err != nil {
		return fmt.Errorf("policystore: language changes: %w", err)
	}
	type change struct {
		phone, lang string
		at          time.Time
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (c change, err error) {
		err = r.Scan(&c.phone, &c.lang, &c.at)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("policystore: language changes: %w", err)
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range changes {
		x.put(c.phone, c.lang)
	}
	if len(x.recent) >= mergeRecentAt || !x.loaded {
		x.merge()
	}
	if n := len(changes); n > 0 {
		if next := changes[n-1].at.Add(-languageLookBack); next.After(x.since) {
			x.since = next
		}
	}
	x.loaded = true
	return nil
}

// Run loads the index, then reads the changes every interval (default
// DefaultLanguageRefresh) until ctx ends. A failed read is logged and
// tried again at the next tick; the index keeps what it had.
func (x *LanguageIndex) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = DefaultLanguageRefresh
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		err := x.Load(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			log.Warn("language index: reading the chosen languages failed; trying again", "err", err)
			failing = true
		case err == nil && failing:
			log.Info("language index: reading again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// put records lang for phone; the caller holds mu. Numbers that do not pack
// are looked up in PostgreSQL each time instead, and so are the languages
// beyond the 256th distinct code (the gateway speaks four).
func (x *LanguageIndex) put(phone, lang string) {
	key, ok := packPhone(phone)
	if !ok {
		return
	}
	n, known := x.code[lang]
	if !known {
		if len(x.codes) > 255 {
			return
		}
		n = uint8(len(x.codes))
		x.codes = append(x.codes, lang)
		x.code[lang] = n
	}
	x.recent[key] = n
}

// lookup finds key's language number; the caller holds mu.
func (x *LanguageIndex) lookup(key uint64) (uint8, bool) {
	if n, ok := x.recent[key]; ok {
		return n, true
	}
	if i, ok := x.find(key); ok {
		return uint8(x.sorted[i]), true
	}
	return 0, false
}

// find is key's position in sorted.
func (x *LanguageIndex) find(key uint64) (int, bool) {
	i, ok := slices.BinarySearchFunc(x.sorted, key, func(e, key uint64) int { return cmp.Compare(e>>8, key) })
	return i, ok
}

// merge moves the recent changes into a new sorted slice; the caller holds
// mu for writing.
func (x *LanguageIndex) merge() {
	if len(x.recent) == 0 {
		return
	}
	changes := make([]uint64, 0, len(x.recent))
	for key, n := range x.recent {
		changes = append(changes, key<<8|uint64(n))
	}
	slices.Sort(changes)
	merged := make([]uint64, 0, len(x.sorted)+len(changes))
	i, j := 0, 0
	for i < len(x.sorted) || j < len(changes) {
		switch {
		case j == len(changes) || (i < len(x.sorted) && x.sorted[i]>>8 < changes[j]>>8):
			merged = append(merged, x.sorted[i])
			i++
		case i == len(x.sorted) || changes[j]>>8 < x.sorted[i]>>8:
			merged = append(merged, changes[j])
			j++
		default: // the same phone: the change wins
			merged = append(merged, changes[j])
			i++
			j++
		}
	}
	x.sorted = merged
	x.recent = map[uint64]uint8{} // not clear(): a map keeps its size once grown
}

// packPhone packs an E.164 number ("+" and 1 to 15 digits) into 54 bits:
// its digits' value (below 2^50), and their count in the four bits above so
// that leading zeros, never valid in E.164 but possible in a table, stay
// distinct. The eight bits left take the language in LanguageIndex.
func packPhone(phone string) (uint64, bool) {
	if len(phone) < 2 || len(phone) > 16 || phone[0] != '+' {
		return 0, false
	}
	var v uint64
	for i := 1; i < len(phone); i++ {
		d := phone[i] - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	return uint64(len(phone)-1)<<50 | v, true
}
