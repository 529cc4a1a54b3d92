package openimis

import "time"

// ClaimStatus is "tblClaim"."ClaimStatus".
type ClaimStatus int

const (
	ClaimRejected  ClaimStatus = 1
	ClaimEntered   ClaimStatus = 2
	ClaimChecked   ClaimStatus = 4
	ClaimProcessed ClaimStatus = 8
	ClaimValuated  ClaimStatus = 16
)

// Amount is a "numeric(18,2)" amount of money, exactly, in cents; Valid is
// false for NULL.
type Amount struct {
	Cents int64
	Valid bool
}

// Claim is what an insuree may be shown of one claim: no diagnosis and no
// items, which are health data.
type Claim struct {
	Code         string
	FacilityCode string
	FacilityName string
	DateClaimed  time.Time
	Status       ClaimStatus
	Claimed      Amount
	Approved     Amount // set from Checked on
	Valuated     Amount // set at Valuated
}

// ClaimList is the latest claims of one insuree, and whom they belong to:
// claims are health data, shown only to whom the menus' rules allow.
type ClaimList struct {
	Holder
	Claims []Claim
}
