package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Grow adds a nation's worth of synthetic families to a database seeded with
// the demo (Seed): locations down to villages, enrolment officers assigned
// to them, families of one to seven members, one policy per family with its
// insuree policies, and claims, in the openIMIS shape, with COPY. It is for
// measuring the gateway at national scale; nothing here is a real person.
//
// Family i (counting from 0) has 1 + i%7 members (four on average), lives in
// village i%villages, and holds one FAM01 policy: active for seven families
// in ten, expired or idle for the others. Insurance numbers are ten digits
// from 1000000000 up, the head's phone is 07 and eight digits from i, and
// one insuree in four has a claim. ScaleNumber and ScalePhone name them, so
// that a load run can pick existing numbers and their holders' phones.
//
// Each chunk of families is one transaction (the foreign keys are checked at
// its commit), so an interrupted run leaves whole families; running Grow
// again adds more, after the ones there.
type GrowOptions struct {
	Families int       // to add
	Today    time.Time // dates are relative to it
	Progress io.Writer // a line per chunk; nil for none
	Chunk    int       // families per transaction; default 20,000
}

// Scale of the synthetic geography: regions of districts of wards of
// villages, about 140 families a village at 2.5 million families.
const (
	scaleRegions            = 30
	scaleDistrictsPerRegion = 6
	scaleWardsPerDistrict   = 10
	scaleVillagesPerWard    = 10
	scaleVillagesPerOfficer = 10
	scaleFirstNumber        = 1_000_000_000
)

// ScaleNumber is the insurance number of the n-th synthetic insuree.
func ScaleNumber(n int) string { return strconv.Itoa(scaleFirstNumber + n) }

// ScalePhone is the head's phone of synthetic family i, as stored.
func ScalePhone(i int) string { return fmt.Sprintf("07%08d", i%100_000_000) }

// ScaleHead is the insuree index of synthetic family i's head: families
// before it have 1 + j%7 members each.
func ScaleHead(i int) int {
	weeks, rest := i/7, i%7
	return weeks*28 + rest*(rest+1)/2
}

// Grow adds families; see GrowOptions.
func Grow(ctx context.Context, pool *pgxpool.Pool, opt GrowOptions) error {
	if opt.Families <= 0 {
		return errors.New("demo: grow: a positive number of families, please")
	}
	if opt.Chunk <= 0 {
		opt.Chunk = 20_000
	}
	g := &grower{pool: pool, opt: opt, today: date(opt.Today)}
	if err := g.prepare(ctx); err != nil {
		return err
	}
	start := time.Now()
	for done := 0; done < opt.Families; {
		n := min(opt.Chunk, opt.Families-done)
		if err := g.chunk(ctx, g.firstFamily+done, n); err != nil {
			return err
		}
		done += n
		if opt.Progress != nil {
			elapsed := time.Since(start)
			eta := time.Duration(float64(elapsed) / float64(done) * float64(opt.Families-done))
			fmt.Fprintf(opt.Progress, "  families %d/%d (%.0f%%), insurees %d, %s elapsed, about %s left\n",
				done, opt.Families, 100*float64(done)/float64(opt.Families), ScaleHead(g.firstFamily+done)-ScaleHead(g.firstFamily),
				elapsed.Round(time.Second), eta.Round(time.Second))
		}
	}
	return g.bumpSequences(ctx)
}

type grower struct {
	pool  *pgxpool.Pool
	opt   GrowOptions
	today time.Time

	product, icd int
	hfs          []int
	villages     []int // "LocationId" of each synthetic village
	officers     []int // "OfficerID" of the officer of each ten villages
	firstFamily  int   // synthetic family index to start from
	// next free ids, reserved by this run
	familyID, insureeID, policyID, insureePolicyID, claimID int
	superuser                                               bool
}

// prepare finds the demo's product and facilities, creates the geography and
// officers on the first run, and reserves ids after every existing row.
func (g *grower) prepare(ctx context.Context) error {
	err := g.pool.QueryRow(ctx, `SELECT "ProdID" FROM "tblProduct" WHERE "ProductCode" = $1 AND "ValidityTo" IS NULL`, markerProduct).Scan(&g.product)
	if errors.Is(err, pgx.ErrNoRows) {
		return errors.New("demo: grow: no product " + markerProduct + ": run seed-demo first")
	} else if err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	rows, err := g.pool.Query(ctx, `SELECT "HfID" FROM "tblHF" WHERE "ValidityTo" IS NULL ORDER BY "HfID"`)
	if err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	if g.hfs, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil || len(g.hfs) == 0 {
		return fmt.Errorf("demo: grow: health facilities: %v", err)
	}
	// The 1.4.2 dump requires a diagnosis on every claim; the development
	// schema has no ICD table and takes any number.
	g.icd = 1
	_ = g.pool.QueryRow(ctx, `SELECT COALESCE(min("ICDID"), 1) FROM "tblICDCodes"`).Scan(&g.icd)

	if err := g.pool.QueryRow(ctx, `SELECT current_setting('is_superuser') = 'on'`).Scan(&g.superuser); err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	if err := g.geography(ctx); err != nil {
		return err
	}
	var synthetic int
	if err := g.pool.QueryRow(ctx, `SELECT count(*) FROM "tblFamilies" WHERE "FamilyAddress" LIKE 'Scale %'`).Scan(&synthetic); err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	g.firstFamily = synthetic
	return g.pool.QueryRow(ctx, `SELECT
		(SELECT COALESCE(max("FamilyID"), 0) + 1 FROM "tblFamilies"),
		(SELECT COALESCE(max("InsureeID"), 0) + 1 FROM "tblInsuree"),
		(SELECT COALESCE(max("PolicyID"), 0) + 1 FROM "tblPolicy"),
		(SELECT COALESCE(max("InsureePolicyID"), 0) + 1 FROM "tblInsureePolicy"),
		(SELECT COALESCE(max("ClaimID"), 0) + 1 FROM "tblClaim")`).
		Scan(&g.familyID, &g.insureeID, &g.policyID, &g.insureePolicyID, &g.claimID)
}

// geography creates the synthetic regions, districts, wards and villages and
// an officer for every ten villages, once; later runs read them back.
func (g *grower) geography(ctx context.Context) error {
	load := func() error {
		rows, err := g.pool.Query(ctx, `SELECT "LocationId" FROM "tblLocations" WHERE "LocationCode" LIKE 'SV%' AND "ValidityTo" IS NULL ORDER BY "LocationCode"`)
		if err != nil {
			return err
		}
		if g.villages, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
			return err
		}
		rows, err = g.pool.Query(ctx, `SELECT "OfficerID" FROM "tblOfficer" WHERE "Code" LIKE 'S%' AND "ValidityTo" IS NULL ORDER BY "Code"`)
		if err != nil {
			return err
		}
		g.officers, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	}
	if err := load(); err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	if len(g.villages) > 0 {
		return nil
	}
	tx, err := g.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	insert := func(code, kind string, parent any) (int, error) {
		var id int
		err := tx.QueryRow(ctx, `INSERT INTO "tblLocations" ("LocationUUID", "LocationCode", "LocationName", "LocationType",
			"ParentLocationId", "ValidityFrom", "AuditUserId") VALUES ($1, $2, $3, $4, $5, now(), $6) RETURNING "LocationId"`,
			uuid.NewString(), code, "Scale "+code, kind, parent, auditUser).Scan(&id)
		return id, err
	}
	var villages []int
	for r := range scaleRegions {
		region, err := insert(fmt.Sprintf("SR%02d", r), "R", nil)
		if err != nil {
			return fmt.Errorf("demo: grow: locations: %w", err)
		}
		for d := range scaleDistrictsPerRegion {
			district, err := insert(fmt.Sprintf("SD%02d%d", r, d), "D", region)
			if err != nil {
				return fmt.Errorf("demo: grow: locations: %w", err)
			}
			for w := range scaleWardsPerDistrict {
				ward, err := insert(fmt.Sprintf("SW%02d%d%d", r, d, w), "W", district)
				if err != nil {
					return fmt.Errorf("demo: grow: locations: %w", err)
				}
				for v := range scaleVillagesPerWard {
					village, err := insert(fmt.Sprintf("SV%02d%d%d%d", r, d, w, v), "V", ward)
					if err != nil {
						return fmt.Errorf("demo: grow: locations: %w", err)
					}
					villages = append(villages, village)
				}
			}
		}
	}
	for o := 0; o*scaleVillagesPerOfficer < len(villages); o++ {
		var id int
		err := tx.QueryRow(ctx, `INSERT INTO "tblOfficer" ("OfficerUUID", "Code", "LastName", "OtherNames", "Phone",
			"PhoneCommunication", "ValidityFrom", "AuditUserID") VALUES ($1, $2, 'Officer', 'Scale', $3, true, now(), $4) RETURNING "OfficerID"`,
			uuid.NewString(), fmt.Sprintf("S%05d", o), fmt.Sprintf("06%08d", o), auditUser).Scan(&id)
		if err != nil {
			return fmt.Errorf("demo: grow: officers: %w", err)
		}
		for _, v := range villages[o*scaleVillagesPerOfficer : min(len(villages), (o+1)*scaleVillagesPerOfficer)] {
			if _, err := tx.Exec(ctx, `INSERT INTO "tblOfficerVillages" ("OfficerId", "LocationId", "ValidityFrom", "AuditUserID")
				VALUES ($1, $2, now(), $3)`, id, v, auditUser); err != nil {
				return fmt.Errorf("demo: grow: officers' villages: %w", err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	if err := load(); err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	return nil
}

// chunk writes families first..first+n-1 in one transaction.
func (g *grower) chunk(ctx context.Context, first, n int) error {
	tx, err := g.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("demo: grow: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	// openIMIS's foreign keys are checked at commit, one query per row, with
	// plans made while the tables looked empty: 20,000 families took minutes
	// instead of a second. The rows are consistent by construction, so a
	// superuser skips the checks; anyone else waits.
	if g.superuser {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return fmt.Errorf("demo: grow: %w", err)
		}
	}
	now := time.Now()
	var families, insurees, policies, insureePolicies, claims [][]any
	for i := first; i < first+n; i++ {
		familyID, policyID := g.familyID, g.policyID
		g.familyID++
		g.policyID++
		village := g.villages[i%len(g.villages)]
		headID := g.insureeID
		families = append(families, []any{familyID, uuid.NewString(), headID, village, false,
			"Scale " + strconv.Itoa(i), now, auditUser})
		status, start, expiry := g.policyOf(i)
		var effective any
		if status != 1 {
			effective = start
		}
		policies = append(policies, []any{policyID, uuid.NewString(), familyID, g.product,
			g.officers[(i%len(g.villages))/scaleVillagesPerOfficer], "N", int16(status), int64(30000),
			start.AddDate(0, 0, -7), start, effective, expiry, now, auditUser})
		members := 1 + i%7
		for m := range members {
			index := ScaleHead(i) + m
			var phone any
			switch m {
			case 0:
				phone = ScalePhone(i)
			case 1:
				if i%2 == 0 {
					phone = fmt.Sprintf("065%07d", i%10_000_000)
				}
			}
			dob := g.today.AddDate(-30-i%35, -(m * 3), -i%28)
			if m > 1 {
				dob = g.today.AddDate(-1-(i+m)%17, 0, -m)
			}
			insurees = append(insurees, []any{g.insureeID, uuid.NewString(), familyID, ScaleNumber(index),
				scaleLastNames[i%len(scaleLastNames)], scaleOtherNames[(i+m)%len(scaleOtherNames)], dob,
				[]string{"M", "F"}[(i+m)%2], m == 0, phone, false, relationOf(m), now, auditUser})
			insureePolicies = append(insureePolicies, []any{g.insureePolicyID, g.insureeID, policyID,
				start.AddDate(0, 0, -7), start, effective, expiry, now, auditUser})
			if index%4 == 0 {
				claimed := g.today.AddDate(0, 0, -index%180)
				claims = append(claims, []any{g.claimID, uuid.NewString(), fmt.Sprintf("S%07d", g.claimID%10_000_000),
					g.insureeID, g.hfs[index%len(g.hfs)], g.icd, claimed, claimed, int16([]int{2, 4, 8, 16, 1}[index%5]),
					int64(15000 + index%50*1000), false, now, auditUser})
				g.claimID++
			}
			g.insureeID++
			g.insureePolicyID++
		}
	}
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"tblFamilies", []string{"FamilyID", "FamilyUUID", "InsureeID", "LocationId", "Poverty", "FamilyAddress", "ValidityFrom", "AuditUserID"}, families},
		{"tblInsuree", []string{"InsureeID", "InsureeUUID", "FamilyID", "CHFID", "LastName", "OtherNames", "DOB", "Gender",
			"IsHead", "Phone", "CardIssued", "Relationship", "ValidityFrom", "AuditUserID"}, insurees},
		{"tblPolicy", []string{"PolicyID", "PolicyUUID", "FamilyID", "ProdID", "OfficerID", "PolicyStage", "PolicyStatus",
			"PolicyValue", "EnrollDate", "StartDate", "EffectiveDate", "ExpiryDate", "ValidityFrom", "AuditUserID"}, policies},
		{"tblInsureePolicy", []string{"InsureePolicyID", "InsureeID", "PolicyId", "EnrollmentDate", "StartDate", "EffectiveDate",
			"ExpiryDate", "ValidityFrom", "AuditUserID"}, insureePolicies},
		{"tblClaim", []string{"ClaimID", "ClaimUUID", "ClaimCode", "InsureeID", "HFID", "ICDID", "DateFrom", "DateClaimed",
			"ClaimStatus", "Claimed", "Feedback", "ValidityFrom", "AuditUserID"}, claims},
	} {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return fmt.Errorf("demo: grow: copy %s: %w", c.table, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("demo: grow: commit: %w", err)
	}
	return nil
}

// policyOf is family i's policy: active for seven in ten (expiring within
// the next year), expired for two, idle for one.
func (g *grower) policyOf(i int) (status int, start, expiry time.Time) {
	switch i % 10 {
	case 7, 8:
		start = g.today.AddDate(-1, -1-i%11, 0)
		return 8, start, start.AddDate(1, 0, -1)
	case 9:
		start = g.today.AddDate(0, 0, -i%60)
		return 1, start, start.AddDate(1, 0, -1)
	}
	start = g.today.AddDate(0, -i%12, -i%28)
	return 2, start, start.AddDate(1, 0, -1)
}

func relationOf(member int) any {
	switch member {
	case 0:
		return nil
	case 1:
		return relSpouse
	}
	return relChild
}

// bumpSequences moves each id sequence past the ids this run wrote.
func (g *grower) bumpSequences(ctx context.Context) error {
	for _, s := range [][2]string{{"tblFamilies", "FamilyID"}, {"tblInsuree", "InsureeID"}, {"tblPolicy", "PolicyID"},
		{"tblInsureePolicy", "InsureePolicyID"}, {"tblClaim", "ClaimID"}} {
		_, err := g.pool.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('"%s"', '%s'), (SELECT max(%q) FROM %q))`,
			s[0], s[1], s[1], s[0]))
		if err != nil {
			return fmt.Errorf("demo: grow: sequence of %s: %w", s[0], err)
		}
	}
	return nil
}

var (
	scaleLastNames  = []string{"Mrisho", "Kimaro", "Magesa", "Kheri", "Mushi", "Mwakalinga", "Ngusa", "Lyimo", "Marwa", "Laizer", "Budeba", "Salum"}
	scaleOtherNames = []string{"Juma", "Rehema", "Neema", "Paulo", "Saidi", "Zuhura", "Godfrey", "Tumaini", "Charles", "Faraja", "Imani", "Halima", "Omari"}
)
