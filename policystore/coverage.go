package policystore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// coverageSQL answers a membership check in one round trip. Its text is a
// constant, so pgx's default QueryExecModeCacheStatement prepares it once
// per connection and afterwards only binds and executes it.
//
// It follows openimis.md §2.5 (the legacy uspPolicyInquiry, member-aware:
// the dates come from the insuree's own "tblInsureePolicy" rows), with two
// changes:
//   - LEFT JOINs from the insuree, so that an unknown number (no row) and an
//     insuree without policies (one row, NULL policy columns) differ;
//   - the family's phones and village (openimis.Holder), for deciding what the
//     caller may see and whether the look-up is of the caller's own family.
//
// Only current rows count: "ValidityTo" IS NULL on every table. History rows
// share the CHFID (insurees) or the PolicyId (insuree policies), so without
// the filter an edited insuree would be answered twice.
//
// The status is decided in Go (openimis.EnquiryStatus), so no "today" is
// sent; the covered lines are moved first there too. Should several current insurees
// share a number (openIMIS checks uniqueness only in code), the oldest
// registration answers.
const coverageSQL = `
WITH ins AS (
  SELECT "InsureeID", "FamilyID", "CHFID", "LastName", "OtherNames", "Phone"
  FROM "tblInsuree"
  WHERE "CHFID" = $1 AND "ValidityTo" IS NULL
  ORDER BY "InsureeID"
  LIMIT 1
)
SELECT ins."CHFID", ins."LastName", ins."OtherNames", ` + holderColumns + `,
       pr."ProductCode", pr."ProductName", p."PolicyStatus", ip."EffectiveDate", ip."ExpiryDate"
FROM ins ` + holderJoins + `
LEFT JOIN ("tblInsureePolicy" ip
           JOIN "tblPolicy" p ON p."PolicyID" = ip."PolicyId" AND p."ValidityTo" IS NULL
           JOIN "tblProduct" pr ON pr."ProdID" = p."ProdID" AND pr."ValidityTo" IS NULL)
       ON ip."InsureeID" = ins."InsureeID" AND ip."ValidityTo" IS NULL
ORDER BY ip."ExpiryDate" DESC NULLS LAST, pr."ProductCode", p."PolicyID"`

// Coverage answers "is this insurance number covered today?" for every
// current policy of the insuree, covered lines first, then by expiry date
// (latest first, unknown last). today is the scheme-local date. An unknown
// number gives openimis.ErrInsureeNotFound; an insuree without policies
// gives a Coverage with no Policies.
func (s *Store) Coverage(ctx context.Context, chfid string, today time.Time) (openimis.Coverage, error) {
	chfid = strings.TrimSpace(chfid)
	if !s.validCHFID(chfid) {
		return openimis.Coverage{}, openimis.ErrInsureeNotFound
	}

	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, coverageSQL, chfid)
	if err != nil {
		return openimis.Coverage{}, fmt.Errorf("policystore: coverage query: %w", err)
	}
	defer rows.Close()

	var (
		c     openimis.Coverage
		found bool
	)
	for rows.Next() {
		var (
			holder            holderRow
			code, name        *string
			status            *int16
			effective, expiry *time.Time
		)
		if err := rows.Scan(&c.CHFID, &c.LastName, &c.OtherNames, &holder.phone, &holder.headPhone, &holder.location,
			&holder.familyPhones, &code, &name, &status, &effective, &expiry); err != nil {
			return openimis.Coverage{}, fmt.Errorf("policystore: coverage scan: %w", err)
		}
		found = true
		c.Holder = holder.Holder()
		if code == nil { // the insuree has no current policy
			continue
		}
		pc := openimis.PolicyCoverage{
			ProductCode:   *code,
			ProductName:   deref(name),
			EffectiveDate: derefTime(effective),
			ExpiryDate:    derefTime(expiry),
		}
		if status != nil {
			pc.PolicyStatus = int(*status)
		}
		pc.Status = openimis.EnquiryStatus(today, pc.EffectiveDate, pc.ExpiryDate, pc.PolicyStatus)
		c.Policies = append(c.Policies, pc)
	}
	if err := rows.Err(); err != nil {
		return openimis.Coverage{}, fmt.Errorf("policystore: coverage query: %w", err)
	}
	if !found {
		return openimis.Coverage{}, openimis.ErrInsureeNotFound
	}
	// The SQL already ordered by expiry.
	openimis.CoveredFirst(c.Policies)
	return c, nil
}

// holderColumns and holderJoins read the Holder of the insuree ins (a
// relation with "FamilyID" and "Phone"): the family's village, the head's
// phone and every current member's. They fit any query of one insuree row.
const (
	holderColumns = `ins."Phone", head."Phone", f."LocationId",
       ARRAY(SELECT m."Phone" FROM "tblInsuree" m
             WHERE m."FamilyID" = ins."FamilyID" AND m."ValidityTo" IS NULL AND btrim(m."Phone") <> '')`
	holderJoins = `
LEFT JOIN "tblFamilies" f ON f."FamilyID" = ins."FamilyID" AND f."ValidityTo" IS NULL
LEFT JOIN "tblInsuree" head ON head."InsureeID" = f."InsureeID" AND head."ValidityTo" IS NULL`
)

// holderRow scans holderColumns.
type holderRow struct {
	phone, headPhone *string
	location         *int32
	familyPhones     []string
}

func (r holderRow) Holder() openimis.Holder {
	h := openimis.Holder{Phone: deref(r.phone), HeadPhone: deref(r.headPhone), FamilyPhones: r.familyPhones}
	if r.location != nil {
		h.Location = int(*r.location)
	}
	return h
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
