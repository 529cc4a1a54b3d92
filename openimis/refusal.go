package openimis

import "fmt"

// RefusalReason says why a renewal is refused; the menus translate it.
type RefusalReason string

const (
	ReasonInvalidRequest      RefusalReason = "invalid_request"       // empty receipt, amount ≤ 0, ...
	ReasonUnknownNumber       RefusalReason = "unknown_number"        // no current insuree has the number
	ReasonUnknownProduct      RefusalReason = "unknown_product"       // no current product has the code
	ReasonNoPreviousPolicy    RefusalReason = "no_previous_policy"    // no active or expired policy of the product
	ReasonRenewalExists       RefusalReason = "renewal_exists"        // a later, or an idle renewal, policy exists
	ReasonProductNotRenewable RefusalReason = "product_not_renewable" // outside its dates, no valid conversion
	ReasonNoMembers           RefusalReason = "no_members"            // nobody in the family to cover
	ReasonNotOfficer          RefusalReason = "not_officer"           // the phone is no current officer's
	ReasonReceiptUsed         RefusalReason = "receipt_used"          // the receipt is on another premium of the product
	ReasonOutsideArea         RefusalReason = "outside_area"          // the family lives outside the officer's area
	ReasonAmountTooHigh       RefusalReason = "amount_too_high"       // more than the value and the overpayment accepted
)

// RefusalError is a renewal refused for a business reason: the caller did
// nothing wrong technically and gets an answer, not a failure. Compare with
// errors.Is against the Err* values below, or read Reason with errors.As.
type RefusalError struct {
	Reason RefusalReason
	Detail string // for logs, in English; never shown as is
	// Due is the amount due (the policy value) of ReasonAmountTooHigh, for
	// the answer to say; 0 for the other reasons.
	Due Money
}

func (e *RefusalError) Error() string {
	if e.Detail == "" {
		return "renewal refused: " + string(e.Reason)
	}
	return "renewal refused: " + string(e.Reason) + ": " + e.Detail
}

// Is matches a RefusalError with the same reason; an unknown number also
// matches ErrInsureeNotFound.
func (e *RefusalError) Is(target error) bool {
	if t, ok := target.(*RefusalError); ok {
		return t.Reason == e.Reason
	}
	return target == ErrInsureeNotFound && e.Reason == ReasonUnknownNumber
}

// The refusals, for errors.Is.
var (
	ErrInvalidRequest      = &RefusalError{Reason: ReasonInvalidRequest}
	ErrUnknownNumber       = &RefusalError{Reason: ReasonUnknownNumber}
	ErrUnknownProduct      = &RefusalError{Reason: ReasonUnknownProduct}
	ErrNoPreviousPolicy    = &RefusalError{Reason: ReasonNoPreviousPolicy}
	ErrRenewalExists       = &RefusalError{Reason: ReasonRenewalExists}
	ErrProductNotRenewable = &RefusalError{Reason: ReasonProductNotRenewable}
	ErrNoMembers           = &RefusalError{Reason: ReasonNoMembers}
	ErrNotOfficer          = &RefusalError{Reason: ReasonNotOfficer}
	ErrReceiptUsed         = &RefusalError{Reason: ReasonReceiptUsed}
	ErrOutsideArea         = &RefusalError{Reason: ReasonOutsideArea}
	ErrAmountTooHigh       = &RefusalError{Reason: ReasonAmountTooHigh}
)

// Refuse is a refusal for reason r, with a detail for the logs.
func Refuse(r RefusalReason, format string, args ...any) error {
	return &RefusalError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// OutsideArea refuses officer the family familyID, which lives in location.
func OutsideArea(officer Officer, familyID, location int) error {
	return Refuse(ReasonOutsideArea, "family %d (location %d) is outside officer %s's area", familyID, location, officer.Code)
}
