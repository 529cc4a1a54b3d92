package policystore

// Officer recognition, inside the package to watch the index's reloads. The
// officers are written here, not by the demo (whose package imports this one).

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

var officerDay = time.Date(2025, time.March, 10, 0, 0, 0, 0, time.UTC)

type officerFixture struct {
	code, phone string
	worksTo     any // nil or time.Time
	history     bool
}

func officerStore(t *testing.T, now func() time.Time, officers ...officerFixture) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.SetOfficerOptions(OfficerOptions{Region: "tz", Refresh: time.Minute, Now: now})
	for i, o := range officers {
		var validityTo any
		if o.history {
			validityTo = officerDay
		}
		_, err := s.pool.Exec(ctx, `INSERT INTO "tblOfficer" ("OfficerUUID", "Code", "LastName", "OtherNames", "Phone",
			"PhoneCommunication", "WorksTo", "ValidityFrom", "ValidityTo", "AuditUserID")
			VALUES (gen_random_uuid()::text, $1, 'Officer', $2, $3, $4, $5, now(), $6, -1)`,
			o.code, o.code, o.phone, i%2 == 0, o.worksTo, validityTo)
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestOfficerByPhone(t *testing.T) {
	ctx := context.Background()
	s := officerStore(t, time.Now,
		officerFixture{code: "EO001", phone: "0712 345 678"},
		officerFixture{code: "EO002", phone: "0754321098", worksTo: officerDay.AddDate(2, 0, 0)},
		officerFixture{code: "EO003", phone: "+255 767 890 123"},
		officerFixture{code: "EO004", phone: "255744111222"},
		officerFixture{code: "EO009", phone: "0715 246 135", worksTo: officerDay.AddDate(0, -6, 0)},
		officerFixture{code: "EO010", phone: "0788 000 111", worksTo: officerDay},
		officerFixture{code: "EOOLD", phone: "0799 000 111", history: true},
		// Two officers on one phone: the one who left and a current one.
		officerFixture{code: "EO011", phone: "0777 000 111", worksTo: officerDay.AddDate(-1, 0, 0)},
		officerFixture{code: "EO012", phone: "+255777000111"},
		officerFixture{code: "EOBAD", phone: "n/a"},
	)
	cases := []struct {
		phone string
		day   time.Time
		want  string // "" = no officer
	}{
		{"+255712345678", officerDay, "EO001"},
		{"0712345678", officerDay, "EO001"},
		{"255712345678", officerDay, "EO001"},
		{"+255 712 345 678", officerDay, "EO001"},
		{"+255754321098", officerDay, "EO002"},
		{"+255754321098", officerDay.AddDate(2, 0, 0), "EO002"},  // the last working day
		{"+255754321098", officerDay.AddDate(2, 0, 1), ""},       // the day after
		{"0767890123", officerDay, "EO003"},                      // stored with a country code and spaces
		{"+255744111222", officerDay, "EO004"},                   // stored without the +
		{"+255715246135", officerDay, ""},                        // left six months ago
		{"+255715246135", officerDay.AddDate(0, -7, 0), "EO009"}, // still working seven months ago
		{"+255788000111", officerDay, "EO010"},                   // leaves today: still today
		{"+255788000111", time.Date(2025, time.March, 10, 23, 30, 0, 0, time.FixedZone("EAT", 3*3600)), "EO010"},
		{"+255799000111", officerDay, ""}, // history row only
		{"+255777000111", officerDay, "EO012"},
		{"+255700000000", officerDay, ""},
		{"", officerDay, ""},
		{"not a phone", officerDay, ""},
	}
	for _, c := range cases {
		o, ok, err := s.OfficerByPhone(ctx, c.phone, c.day)
		if err != nil {
			t.Fatalf("%s: %v", c.phone, err)
		}
		if got := map[bool]string{true: o.Code, false: ""}[ok]; got != c.want {
			t.Errorf("OfficerByPhone(%q, %s) = %q, want %q", c.phone, c.day.Format(time.DateOnly), got, c.want)
		}
	}
	o, _, _ := s.OfficerByPhone(ctx, "+255712345678", officerDay)
	if o.ID == 0 || o.UUID == "" || o.Name != "EO001 Officer" || o.Phone != "0712 345 678" || o.E164 != "+255712345678" ||
		!o.PhoneCommunication || !o.WorksTo.IsZero() {
		t.Errorf("officer %+v", o)
	}
	if n := loadsOf(s); n != 1 {
		t.Errorf("%d loads for %d look-ups, want 1", n, len(cases)+1)
	}
}

func loadsOf(s *Store) int {
	x := &s.officers
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.loads
}

// fakeClock is a settable clock for the refresh.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestOfficerIndexRefresh(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2025, time.March, 10, 8, 0, 0, 0, time.UTC)}
	s := officerStore(t, clock.Now, officerFixture{code: "EO001", phone: "0712 345 678"})
	find := func(phone string) (string, error) {
		o, ok, err := s.OfficerByPhone(ctx, phone, officerDay)
		if !ok {
			return "", err
		}
		return o.Code, err
	}

	// 50 callers at once on an empty index: one load, every caller answered.
	var wg sync.WaitGroup
	var found atomic.Int32
	for range 50 {
		wg.Go(func() {
			if code, err := find("+255712345678"); err == nil && code == "EO001" {
				found.Add(1)
			}
		})
	}
	wg.Wait()
	if found.Load() != 50 || loadsOf(s) != 1 {
		t.Fatalf("%d found, %d loads; want 50 and 1", found.Load(), loadsOf(s))
	}

	// A new phone is seen only after the refresh interval.
	if _, err := s.pool.Exec(ctx, `UPDATE "tblOfficer" SET "Phone" = '0713 000 000' WHERE "Code" = 'EO001'`); err != nil {
		t.Fatal(err)
	}
	clock.Add(59 * time.Second)
	if code, _ := find("+255712345678"); code != "EO001" {
		t.Fatalf("within the refresh interval the old index answers, got %q", code)
	}
	clock.Add(2 * time.Second)
	for range 20 { // concurrent callers after expiry: still one reload
		wg.Go(func() { _, _ = find("+255713000000") })
	}
	wg.Wait()
	if code, _ := find("+255713000000"); code != "EO001" || loadsOf(s) != 2 {
		t.Fatalf("after the refresh: %q, %d loads", code, loadsOf(s))
	}
	if code, _ := find("+255712345678"); code != "" {
		t.Fatalf("the old phone still answers: %q", code)
	}

	// A failing reload keeps the stale index and says nothing.
	if _, err := s.pool.Exec(ctx, `ALTER TABLE "tblOfficer" RENAME COLUMN "Phone" TO "PhoneGone"`); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Minute)
	if code, err := find("+255713000000"); err != nil || code != "EO001" {
		t.Fatalf("stale index after a failed reload: %q, %v", code, err)
	}
	loads := loadsOf(s)
	clock.Add(time.Second) // within the retry pause: no new attempt
	if _, err := find("+255713000000"); err != nil || loadsOf(s) != loads {
		t.Fatalf("retried within the pause: %d loads, %v", loadsOf(s), err)
	}

	// Without any index, the failure is an error.
	s.SetOfficerOptions(OfficerOptions{Refresh: time.Minute, Now: clock.Now})
	if _, err := find("+255713000000"); err == nil {
		t.Fatal("no index and a failing load: want an error")
	}
	if _, err := s.pool.Exec(ctx, `ALTER TABLE "tblOfficer" RENAME COLUMN "PhoneGone" TO "Phone"`); err != nil {
		t.Fatal(err)
	}
	clock.Add(officerRetry)
	if code, err := find("+255713000000"); err != nil || code != "EO001" {
		t.Fatalf("after the repair: %q, %v", code, err)
	}
}

func TestOfficerByPhoneGivesUpWithItsContext(t *testing.T) {
	s := officerStore(t, time.Now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.OfficerByPhone(ctx, "+255712345678", officerDay); err == nil {
		t.Fatal("a cancelled caller without an index: want an error")
	}
	// The load it started still completes for the next caller.
	if _, ok, err := s.OfficerByPhone(context.Background(), "+255712345678", officerDay); err != nil || ok {
		t.Fatalf("%v, %v", ok, err)
	}
}

func TestOfficerCovers(t *testing.T) {
	ctx := context.Background()
	s := officerStore(t, time.Now,
		officerFixture{code: "EOVIL", phone: "0712 000 001"},  // two villages, one of them withdrawn
		officerFixture{code: "EODIS", phone: "0712 000 002"},  // no village: the district's
		officerFixture{code: "EONONE", phone: "0712 000 003"}, // neither villages nor a location
		officerFixture{code: "EOREG", phone: "0712 000 004"},  // no village: the whole region
	)
	// Region R > districts D1, D2 > wards W1 (in D1), W2 (in D2) > villages V1, V2 (in W1), V3 (in W2);
	// a history row of V3 hangs under D1 too and must not count.
	loc := map[string]int{}
	add := func(code, parent string, current bool) {
		var validityTo any
		if !current {
			validityTo = officerDay
		}
		var parentID any
		if parent != "" {
			parentID = loc[parent]
		}
		var id int
		err := s.pool.QueryRow(ctx, `INSERT INTO "tblLocations" ("LocationUUID", "LocationCode", "LocationName", "LocationType",
			"ParentLocationId", "ValidityFrom", "ValidityTo", "AuditUserId")
			VALUES (gen_random_uuid()::text, $1, $1, 'V', $2, now(), $3, -1) RETURNING "LocationId"`, code, parentID, validityTo).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		loc[code] = id
	}
	add("R", "", true)
	add("D1", "R", true)
	add("D2", "R", true)
	add("W1", "D1", true)
	add("W2", "D2", true)
	add("V1", "W1", true)
	add("V2", "W1", true)
	add("V3", "W2", true)
	add("V3old", "W1", false)
	exec := func(sql string, args ...any) {
		if _, err := s.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE "tblOfficer" SET "LocationId" = $1 WHERE "Code" = 'EOVIL'`, loc["D2"])
	exec(`UPDATE "tblOfficer" SET "LocationId" = $1 WHERE "Code" = 'EODIS'`, loc["D1"])
	exec(`UPDATE "tblOfficer" SET "LocationId" = $1 WHERE "Code" = 'EOREG'`, loc["R"])
	village := `INSERT INTO "tblOfficerVillages" ("OfficerId", "LocationId", "ValidityFrom", "ValidityTo", "AuditUserID")
		SELECT "OfficerID", $2, now(), $3, -1 FROM "tblOfficer" WHERE "Code" = $1`
	exec(village, "EOVIL", loc["V1"], nil)
	exec(village, "EOVIL", loc["V3"], officerDay) // withdrawn
	exec(village, "EONONE", loc["V2"], officerDay)

	cases := []struct {
		phone  string
		covers []string
	}{
		// Its villages only: not the other villages of its district, nor a withdrawn one.
		{"+255712000001", []string{"V1"}},
		// Everything under its district, but nothing of the other district nor a history row.
		{"+255712000002", []string{"D1", "W1", "V1", "V2"}},
		{"+255712000003", nil},
		{"+255712000004", []string{"R", "D1", "D2", "W1", "W2", "V1", "V2", "V3"}},
	}
	for _, c := range cases {
		o, ok, err := s.OfficerByPhone(ctx, c.phone, officerDay)
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", c.phone, ok, err)
		}
		for code, id := range loc {
			want := slices.Contains(c.covers, code)
			if got := o.Covers(id); got != want {
				t.Errorf("%s covers %s: %v, want %v", o.Code, code, got, want)
			}
			// Renew's check in its transaction says the same.
			if got := coversNow(t, s, o, id); got != want {
				t.Errorf("%s covers %s by officerSQL: %v, want %v", o.Code, code, got, want)
			}
		}
		if o.Covers(0) || coversNow(t, s, o, 0) {
			t.Errorf("%s covers a family without a location", o.Code)
		}
	}
}

// coversNow is officerSQL's answer: whether o's area holds location as the
// database says now.
func coversNow(t *testing.T, s *Store, o openimis.Officer, location int) bool {
	t.Helper()
	var (
		phone   string
		worksTo *time.Time
		covers  bool
	)
	if err := s.pool.QueryRow(context.Background(), officerSQL, o.ID, location).Scan(&phone, &worksTo, &covers); err != nil {
		t.Fatal(err)
	}
	return covers
}
