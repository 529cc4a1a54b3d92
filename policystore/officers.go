package policystore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/openimis"
)

// Defaults for OfficerOptions.
const (
	DefaultPhoneRegion    = "TZ"
	DefaultOfficerRefresh = 60 * time.Second
	// officerRetry bounds how often a failing refresh is retried while a
	// stale index keeps answering.
	officerRetry = 5 * time.Second
)

// OfficerOptions tunes officer recognition. Zero values take the defaults.
type OfficerOptions struct {
	// Region is the ISO 3166 country of numbers written without a country
	// code ("0712 345 678"); PHONE_REGION, default "TZ".
	Region string
	// Refresh is how old the in-memory index of officers' phones may get
	// before a look-up reloads it; default 60s. An officer added, edited or
	// retired in openIMIS is seen at most this late (Renew re-checks the
	// officer's row itself).
	Refresh time.Duration
	// Now is the clock of the refresh, for tests; default time.Now.
	Now func() time.Time
}

func (o OfficerOptions) withDefaults() OfficerOptions {
	if strings.TrimSpace(o.Region) == "" {
		o.Region = DefaultPhoneRegion
	}
	o.Region = strings.ToUpper(strings.TrimSpace(o.Region))
	if o.Refresh <= 0 {
		o.Refresh = DefaultOfficerRefresh
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// SetOfficerOptions sets the phone region and the refresh of the officer
// index; call it once, before the first look-up (a later call drops the
// index, which is then reloaded).
func (s *Store) SetOfficerOptions(o OfficerOptions) {
	x := &s.officers
	x.mu.Lock()
	defer x.mu.Unlock()
	x.opt = o.withDefaults()
	x.index = nil
	x.loadedAt = time.Time{}
	x.retryAt = time.Time{}
}

// PhoneRegion is the region set by SetOfficerOptions, default "TZ".
func (s *Store) PhoneRegion() string {
	x := &s.officers
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.opt.Region
}

// OfficerByPhone finds the enrolment officer calling from phone: a current
// "tblOfficer" row ("ValidityTo" IS NULL) whose "Phone" is the same number
// once both are normalised to E.164, and who still works on today. When
// several officers share the number, the one with the lowest "OfficerID"
// that is still working answers. An unparsable phone is simply no officer.
//
// It reads an in-memory index, never "tblOfficer" per call: the index is
// reloaded when older than OfficerOptions.Refresh, by one caller at a time;
// meanwhile, and when a reload fails, the previous index answers. An error
// comes back only when there is no index at all.
func (s *Store) OfficerByPhone(ctx context.Context, phone string, today time.Time) (openimis.Officer, bool, error) {
	region := s.PhoneRegion()
	e164, ok := openimis.NormalizePhone(phone, region)
	if !ok {
		return openimis.Officer{}, false, nil
	}
	idx, err := s.officerIndex(ctx)
	if err != nil {
		return openimis.Officer{}, false, err
	}
	for _, o := range idx[e164] {
		if o.Active(today) {
			return o, true, nil
		}
	}
	return openimis.Officer{}, false, nil
}

// officerCache is a Store's officer index and the state of its reloads.
type officerCache struct {
	mu       sync.Mutex
	opt      OfficerOptions
	index    map[string][]openimis.Officer // E.164 → officers, by "OfficerID"
	loadedAt time.Time
	retryAt  time.Time     // no reload before, after a failed one
	loading  chan struct{} // closed when the reload in flight ends
	loadErr  error         // of the last reload
	loads    int           // reloads started, for tests
}

// officerIndex returns a fresh enough index, reloading it under a
// singleflight guard: one reload at a time; other callers keep using the
// stale index meanwhile, or wait for the reload when there is none yet.
func (s *Store) officerIndex(ctx context.Context) (map[string][]openimis.Officer, error) {
	x := &s.officers
	for {
		x.mu.Lock()
		now := x.opt.Now()
		idx := x.index
		switch {
		case idx != nil && now.Sub(x.loadedAt) < x.opt.Refresh:
			x.mu.Unlock()
			return idx, nil
		case idx != nil && (x.loading != nil || now.Before(x.retryAt)):
			x.mu.Unlock()
			return idx, nil // stale, while another caller reloads or after a failure
		case x.loading != nil:
			wait := x.loading
			x.mu.Unlock()
			idx, err := x.await(ctx, wait)
			if idx != nil || err != nil {
				return idx, err
			}
			continue
		}
		done := make(chan struct{})
		x.loading = done
		x.loads++
		region := x.opt.Region
		x.mu.Unlock()

		// The reload outlives a caller that gives up: others may wait for it.
		go func() {
			loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.queryTimeout)
			defer cancel()
			fresh, err := s.loadOfficers(loadCtx, region)
			x.mu.Lock()
			defer x.mu.Unlock()
			x.loading, x.loadErr = nil, err
			if err == nil && x.opt.Region == region {
				x.index, x.loadedAt = fresh, x.opt.Now()
			} else if err != nil {
				x.retryAt = x.opt.Now().Add(min(officerRetry, x.opt.Refresh))
			}
			close(done)
		}()
		// The fresh index, or the stale one after a failure, or the failure.
		return x.await(ctx, done)
	}
}

// await waits for the reload that closes done and returns the index then
// (nil, nil: the reload left no index and no error to report).
func (x *officerCache) await(ctx context.Context, done <-chan struct{}) (map[string][]openimis.Officer, error) {
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("policystore: officer index: %w", ctx.Err())
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.index != nil {
		return x.index, nil
	}
	return nil, x.loadErr
}

const officersSQL = `
SELECT "OfficerID", "OfficerUUID", "Code", "LastName", "OtherNames", "Phone",
       COALESCE("PhoneCommunication", false), COALESCE("LocationId", 0), "WorksTo"
FROM "tblOfficer"
WHERE "ValidityTo" IS NULL AND "Phone" IS NOT NULL AND btrim("Phone") <> ''`

// The officers' areas (Officer.Covers) are worked out in Go from two plain
// reads rather than in SQL: a recursive query over the location tree is
// planned as nested loops on a database without statistics (a fresh
// restore) and took seconds for a national scheme's thousands of officers
// and villages, while the whole tree is a few tens of thousands of rows.
const (
	officerVillagesSQL = `
SELECT "OfficerId", "LocationId" FROM "tblOfficerVillages"
WHERE "ValidityTo" IS NULL AND "OfficerId" IS NOT NULL AND "LocationId" IS NOT NULL`
	locationTreeSQL = `
SELECT "LocationId", COALESCE("ParentLocationId", 0) FROM "tblLocations" WHERE "ValidityTo" IS NULL`
)

// maxLocationDepth bounds the walk down the location tree (region, district,
// ward, village: four levels); it also ends a loop in "ParentLocationId".
const maxLocationDepth = 8

// areas gives each officer its area: its villages, or, with none, its
// "LocationId" and every location under it (shared between the officers of
// one district). children maps a location to the locations under it.
func areas(officers []*openimis.Officer, villages map[int][]int, children map[int][]int) {
	under := map[int][]int{}
	for _, o := range officers {
		if v := villages[o.ID]; len(v) > 0 {
			slices.Sort(v)
			o.Area = slices.Compact(v)
			continue
		}
		if o.LocationID == 0 {
			continue
		}
		area, ok := under[o.LocationID]
		if !ok {
			area = descendants(o.LocationID, children)
			under[o.LocationID] = area
		}
		o.Area = area
	}
}

// descendants is root and every location under it, ascending.
func descendants(root int, children map[int][]int) []int {
	out := []int{root}
	level := []int{root}
	for depth := 0; depth < maxLocationDepth && len(level) > 0; depth++ {
		var next []int
		for _, l := range level {
			next = append(next, children[l]...)
		}
		out = append(out, next...)
		level = next
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// officerSQL re-reads one officer ($1) inside a renewal's transaction: its
// phone, its last working day, and whether the family's village ($2) is in
// its area as the database says now. The area is officerAreasSQL's, for one
// officer and one location: walked up from the village through current
// "ParentLocationId" rows (a few primary-key look-ups, with the family
// locked) rather than down from the officer's location, with the same depth
// bound, so that both agree (TestOfficerCovers checks it).
const officerSQL = `
WITH RECURSIVE up(location, depth) AS (
  SELECT $2::int, 0
  UNION ALL
  SELECT l."ParentLocationId", up.depth + 1
  FROM up JOIN "tblLocations" l ON l."LocationId" = up.location AND l."ValidityTo" IS NULL
  WHERE up.depth < 8 AND l."ParentLocationId" IS NOT NULL
), villages AS (
  SELECT "LocationId" AS location FROM "tblOfficerVillages"
  WHERE "OfficerId" = $1 AND "ValidityTo" IS NULL AND "LocationId" IS NOT NULL
)
SELECT COALESCE(o."Phone", ''), o."WorksTo",
       COALESCE($2 <> 0 AND CASE WHEN EXISTS (SELECT 1 FROM villages) THEN $2 IN (SELECT location FROM villages)
                                 ELSE o."LocationId" IN (SELECT location FROM up) END, false)
FROM "tblOfficer" o
WHERE o."OfficerID" = $1 AND o."ValidityTo" IS NULL`

// loadOfficers reads every current officer with a phone, and their areas,
// in one round trip. Officers whose phone does not parse are left out:
// nobody can call from it.
func (s *Store) loadOfficers(ctx context.Context, region string) (map[string][]openimis.Officer, error) {
	var officers []*openimis.Officer
	villages := map[int][]int{}
	children := map[int][]int{}
	b := &pgx.Batch{}
	b.Queue(officersSQL).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				o           openimis.Officer
				last, other string
				worksTo     *time.Time
			)
			if err := rows.Scan(&o.ID, &o.UUID, &o.Code, &last, &other, &o.Phone, &o.PhoneCommunication, &o.LocationID, &worksTo); err != nil {
				return err
			}
			e164, ok := openimis.NormalizePhone(o.Phone, region)
			if !ok {
				continue
			}
			o.Name = strings.TrimSpace(other + " " + last)
			o.E164 = e164
			o.WorksTo = derefTime(worksTo)
			officers = append(officers, &o)
		}
		return rows.Err()
	})
	b.Queue(officerVillagesSQL).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var officer, location int
			if err := rows.Scan(&officer, &location); err != nil {
				return err
			}
			villages[officer] = append(villages[officer], location)
		}
		return rows.Err()
	})
	b.Queue(locationTreeSQL).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var location, parent int
			if err := rows.Scan(&location, &parent); err != nil {
				return err
			}
			children[parent] = append(children[parent], location)
		}
		return rows.Err()
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("policystore: load officers: %w", err)
	}
	areas(officers, villages, children)
	idx := map[string][]openimis.Officer{}
	for _, o := range officers {
		idx[o.E164] = append(idx[o.E164], *o)
	}
	for _, list := range idx {
		slices.SortFunc(list, func(a, b openimis.Officer) int { return a.ID - b.ID })
	}
	return idx, nil
}
