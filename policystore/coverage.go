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
// It follows the legacy enquiry (docs/openimis.md, "Coverage: the legacy
// enquiry"), member-aware: the dates come from the insuree's own
// "tblInsureePolicy" rows. It adds the family's phones and village
// (openimis.Holder), for deciding what the caller may see, and answers an
// unknown number (no row) apart from an insuree without policies (one row,
// NULL policy columns).
//
// Its shape does not depend on planner statistics, which a restored openIMIS
// database lacks until analyzed: the insuree is found on the CHFID index,
// and every other table is reached from it by a key, each in a LATERAL
// subquery that the planner cannot reorder (see insureeSQL and holderSQL).
// Without that, an unanalyzed database joined every current policy with
// every product before picking the insuree's.
//
// Only current rows count: "ValidityTo" IS NULL on every table. History rows
// share the CHFID (insurees) or the PolicyId (insuree policies), so without
// the filter an edited insuree would be answered twice. The status is decided
// in Go (openimis.EnquiryStatus), so no "today" is sent; the covered lines
// are moved first there too.
const coverageSQL = `
SELECT ins."CHFID", ins."LastName", ins."OtherNames", ` + holderColumns + `,
       pol."ProductCode", pol."ProductName", pol."PolicyStatus", pol."EffectiveDate", pol."ExpiryDate"
FROM ` + insureeSQL + holderJoins + `
LEFT JOIN LATERAL (
  SELECT pr."ProductCode", pr."ProductName", p."PolicyStatus", p."PolicyID", ip."EffectiveDate", ip."ExpiryDate"
  FROM "tblInsureePolicy" ip
  CROSS JOIN LATERAL (SELECT "PolicyID", "PolicyStatus", "ProdID" FROM "tblPolicy"
                      WHERE "PolicyID" = ip."PolicyId" AND "ValidityTo" IS NULL LIMIT 1) p
  CROSS JOIN LATERAL (SELECT "ProductCode", "ProductName" FROM "tblProduct"
                      WHERE "ProdID" = p."ProdID" AND "ValidityTo" IS NULL LIMIT 1) pr
  WHERE ip."InsureeID" = ins."InsureeID" AND ip."ValidityTo" IS NULL
) pol ON true
ORDER BY pol."ExpiryDate" DESC NULLS LAST, pol."ProductCode", pol."PolicyID"`

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

// insureeSQL is the current insuree with number $1, as relation ins.
// Should several current insurees share a number (openIMIS checks
// uniqueness only in code), the oldest registration answers.
const insureeSQL = `(
  SELECT "InsureeID", "FamilyID", "CHFID", "LastName", "OtherNames", "Phone"
  FROM "tblInsuree"
  WHERE "CHFID" = $1 AND "ValidityTo" IS NULL
  ORDER BY "InsureeID"
  LIMIT 1
) ins`

// holderColumns and holderJoins read the Holder of the insuree ins (a
// relation with "FamilyID" and "Phone"): the family's village, the head's
// phone and every current member's, once per insuree however many rows the
// query returns. They fit any query of one insuree row. Each table is
// reached by its key in a subquery of its own: a LIMIT keeps a LATERAL
// subquery from being merged into the join, so no plan can scan a table for
// it (see coverageSQL).
const (
	holderColumns = `ins."Phone", f.head_phone, f."LocationId", f.phones`
	holderJoins   = `
LEFT JOIN LATERAL (
  SELECT fam."LocationId",
         (SELECT head."Phone" FROM "tblInsuree" head
          WHERE head."InsureeID" = fam."InsureeID" AND head."ValidityTo" IS NULL LIMIT 1) AS head_phone,
         ARRAY(SELECT m."Phone" FROM "tblInsuree" m
               WHERE m."FamilyID" = ins."FamilyID" AND m."ValidityTo" IS NULL AND btrim(m."Phone") <> '') AS phones
  FROM "tblFamilies" fam
  WHERE fam."FamilyID" = ins."FamilyID" AND fam."ValidityTo" IS NULL
  LIMIT 1
) f ON true`
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
