package openimis

import "time"

// PolicyDue is a current Active policy expiring soon that no later policy
// renews yet: what a renewal reminder is about (README.md, "Renewal
// reminders").
type PolicyDue struct {
	PolicyID    int
	FamilyID    int
	Location    int // the family's village; 0 when none
	ProductCode string
	Expiry      time.Time // the last covered day
	HeadCHFID   string
	HeadName    string // other names, then last name
	HeadPhone   string // as stored, free text
	// Consent is what the family's current "tblFamilySMS" row says of SMS.
	Consent Consent
	// SMSLanguage is that row's "LanguageOfSMS", as stored; "" when none.
	SMSLanguage string
	// Reminded: the family's reminder for this policy and expiry date is
	// queued already.
	Reminded bool
}

// Consent is a family's SMS consent as openIMIS records it.
type Consent int

const (
	// ConsentNotKept: the database has no "tblFamilySMS" (or it was not
	// read).
	ConsentNotKept Consent = iota
	// ConsentNoRow: the family has no current "tblFamilySMS" row, or its
	// "ApprovalOfSMS" is NULL.
	ConsentNoRow
	ConsentGiven   // "ApprovalOfSMS" true
	ConsentRefused // "ApprovalOfSMS" false
)
