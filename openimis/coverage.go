package openimis

import (
	"cmp"
	"errors"
	"slices"
	"time"
)

// ErrInsureeNotFound: no current insuree ("ValidityTo" IS NULL) has the number.
var ErrInsureeNotFound = errors.New("insuree not found")

// Policy status codes, "tblPolicy"."PolicyStatus".
const (
	PolicyIdle      = 1
	PolicyActive    = 2
	PolicySuspended = 4
	PolicyExpired   = 8
	PolicyReady     = 16
)

// CoverageStatus is the enquiry answer for one policy of one insuree,
// decided as the legacy uspPolicyInquiry does: dates from "tblInsureePolicy" first, then "tblPolicy"."PolicyStatus".
type CoverageStatus int

const (
	NotYetActive CoverageStatus = iota // 'I' (idle, ready, or effective date in the future / missing)
	Covered                            // 'A'
	Expired                            // 'E'
	Suspended                          // 'S'
)

// Holder is whom an insurance number belongs to, as far as deciding who may
// see what of it: phones are free text as stored.
type Holder struct {
	Phone     string // the insuree's "Phone"
	HeadPhone string // the family head's "Phone"
	// FamilyPhones are the phones of every current member of the family,
	// the head's and the insuree's among them.
	FamilyPhones []string
	// Location is the family's village ("tblFamilies"."LocationId"), 0 when
	// NULL: enrolment officers see the families of their area
	// (Officer.Covers).
	Location int
}

// Coverage is what a membership check shows about one insurance number.
type Coverage struct {
	CHFID      string
	LastName   string
	OtherNames string
	Holder
	// Policies, covered ones first, then by expiry date descending.
	Policies []PolicyCoverage
}

// PolicyCoverage is one policy covering (or having covered) the insuree.
type PolicyCoverage struct {
	ProductCode   string
	ProductName   string
	PolicyStatus  int // raw "tblPolicy"."PolicyStatus": 1,2,4,8,16
	Status        CoverageStatus
	EffectiveDate time.Time // "tblInsureePolicy"."EffectiveDate"; zero when NULL
	ExpiryDate    time.Time // "tblInsureePolicy"."ExpiryDate"; zero when NULL
}

// CoveredFirst moves the covered lines first, keeping the order of the
// covered lines and of the others (the store reads them by expiry date).
func CoveredFirst(policies []PolicyCoverage) {
	slices.SortStableFunc(policies, func(a, b PolicyCoverage) int {
		return cmp.Compare(coveredRank(a.Status), coveredRank(b.Status))
	})
}

func coveredRank(s CoverageStatus) int {
	if s == Covered {
		return 0
	}
	return 1
}

// EnquiryStatus decides one policy line as the legacy uspPolicyInquiry
// does: dates from "tblInsureePolicy" first, because the PolicyStatus
// 2 → 8 flip is a batch job that may not have run; then the policy status. A zero time stands for NULL. Only the calendar
// dates of today, effective and expiry count, each in its own location.
//
//	EffectiveDate NULL or today < EffectiveDate → NotYetActive
//	today > ExpiryDate                          → Expired
//	PolicyStatus 1 (Idle), 16 (Ready)           → NotYetActive
//	PolicyStatus 2 (Active)                     → Covered
//	PolicyStatus 4 (Suspended)                  → Suspended
//	anything else (8 Expired, NULL, unknown)    → Expired
//
// A NULL ExpiryDate does not expire the line, as in the legacy SQL, where
// the comparison with NULL is not true.
func EnquiryStatus(today, effective, expiry time.Time, policyStatus int) CoverageStatus {
	d := civil(today)
	switch {
	case effective.IsZero() || d < civil(effective):
		return NotYetActive
	case !expiry.IsZero() && d > civil(expiry):
		return Expired
	}
	switch policyStatus {
	case PolicyIdle, PolicyReady:
		return NotYetActive
	case PolicyActive:
		return Covered
	case PolicySuspended:
		return Suspended
	default:
		return Expired
	}
}

// civil turns a time into a comparable calendar date, yyyymmdd.
func civil(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}
