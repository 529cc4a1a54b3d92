package policystore

import (
	"errors"
	"time"
)

// ErrInsureeNotFound: no current insuree ("ValidityTo" IS NULL) has the number.
var ErrInsureeNotFound = errors.New("insuree not found")

// CoverageStatus is the enquiry answer for one policy of one insuree,
// decided as the legacy uspPolicyInquiry does (openimis.md §2.1, §2.5):
// dates from "tblInsureePolicy" first, then "tblPolicy"."PolicyStatus".
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

// Columns records the optional parts of the openIMIS schema found at start-up
// (DESIGN.md §2.6): the 1.4.2 dump and Django-migrated databases differ.
type Columns struct {
	InsureeStatus      bool // "tblInsuree"."status" (insuree migration 0017)
	PolicyCreationDate bool // "tblPolicy"."creationDate" (policy migration 0009)
	CHFIDMaxLen        int  // width of "tblInsuree"."CHFID": 12 in the dump, 50 after migration 0019
}
