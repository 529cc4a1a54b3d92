package policystore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// MaxClaims bounds the limit of Claims.
const MaxClaims = 100

// claimsSQL answers "the latest claims of this insurance number" in one
// round trip: a row per claim, one row of NULL claim columns when the
// insuree has none, and no row when no current insuree has the number.
//
// Only current claims count ("ValidityTo" IS NULL). "InsureeID" and "HFID"
// always point at the current insuree and facility rows, since history rows
// take new IDs (docs/openimis.md, "Current rows and ValidityTo"); a facility deleted since still names its
// claims, so "tblHF" is not filtered. As in coverageSQL, every table is
// reached by a key, whatever the planner's statistics.
// Amounts come as cents: numeric(18,2) × 100 fits a bigint exactly.
const claimsSQL = `
SELECT ` + holderColumns + `,
       cl."ClaimCode", cl."HFCode", cl."HFName", cl."DateClaimed", cl."ClaimStatus",
       cl.claimed, cl.approved, cl.valuated
FROM ` + insureeSQL + holderJoins + `
LEFT JOIN LATERAL (
  SELECT c."ClaimID", c."ClaimCode", hf."HFCode", hf."HFName", c."DateClaimed", c."ClaimStatus",
         (c."Claimed" * 100)::bigint AS claimed,
         (c."Approved" * 100)::bigint AS approved,
         (c."Valuated" * 100)::bigint AS valuated
  FROM "tblClaim" c
  CROSS JOIN LATERAL (SELECT "HFCode", "HFName" FROM "tblHF" WHERE "HfID" = c."HFID" LIMIT 1) hf
  WHERE c."InsureeID" = ins."InsureeID" AND c."ValidityTo" IS NULL
  ORDER BY c."DateClaimed" DESC, c."ClaimID" DESC
  LIMIT $2
) cl ON true
ORDER BY cl."DateClaimed" DESC, cl."ClaimID" DESC`

// Claims returns the latest claims of the insuree with number chfid, newest
// first by "DateClaimed" (then by entry), at most limit (1 to MaxClaims),
// and whom they belong to. An unknown number gives
// openimis.ErrInsureeNotFound; an insuree without claims, no claims and no
// error.
func (s *Store) Claims(ctx context.Context, chfid string, limit int) (openimis.ClaimList, error) {
	chfid = strings.TrimSpace(chfid)
	if !s.validCHFID(chfid) {
		return openimis.ClaimList{}, openimis.ErrInsureeNotFound
	}
	limit = min(max(limit, 1), MaxClaims)

	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, claimsSQL, chfid, limit)
	if err != nil {
		return openimis.ClaimList{}, fmt.Errorf("policystore: claims query: %w", err)
	}
	defer rows.Close()

	var (
		list  openimis.ClaimList
		found bool
	)
	for rows.Next() {
		var (
			holder                     holderRow
			code, hfCode, hfName       *string
			claimed                    *time.Time
			status                     *int16
			amount, approved, valuated *int64
		)
		if err := rows.Scan(&holder.phone, &holder.headPhone, &holder.location, &holder.familyPhones,
			&code, &hfCode, &hfName, &claimed, &status, &amount, &approved, &valuated); err != nil {
			return openimis.ClaimList{}, fmt.Errorf("policystore: claims scan: %w", err)
		}
		found = true
		list.Holder = holder.Holder()
		if code == nil { // the insuree has no current claim
			continue
		}
		c := openimis.Claim{
			Code:         *code,
			FacilityCode: deref(hfCode),
			FacilityName: deref(hfName),
			DateClaimed:  derefTime(claimed),
			Claimed:      amountOf(amount),
			Approved:     amountOf(approved),
			Valuated:     amountOf(valuated),
		}
		if status != nil {
			c.Status = openimis.ClaimStatus(*status)
		}
		list.Claims = append(list.Claims, c)
	}
	if err := rows.Err(); err != nil {
		return openimis.ClaimList{}, fmt.Errorf("policystore: claims query: %w", err)
	}
	if !found {
		return openimis.ClaimList{}, openimis.ErrInsureeNotFound
	}
	return list, nil
}

func amountOf(cents *int64) openimis.Amount {
	if cents == nil {
		return openimis.Amount{}
	}
	return openimis.Amount{Cents: *cents, Valid: true}
}
