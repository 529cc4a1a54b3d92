package openimis

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/clip"
)

// Channels a renewal comes in by; written to "Source".
const (
	ChannelUSSD = "USSD"
	ChannelSMS  = "SMS"
)

// Recipients of the confirmation SMS, as RenewalRequest.Messages sees them.
const (
	RecipientOfficer = "officer"
	RecipientHead    = "head"
)

// DefaultAuditUserID is written to "AuditUserID" when the request has none
// (GATEWAY_AUDIT_USER_ID).
const DefaultAuditUserID = -1

// ActivationReady is the "tblIMISDefaults"."ActivationOption" under which a
// policy paid in full waits, Ready, for the scheme to activate it, rather
// than being Active at once.
const ActivationReady = 3

// Column widths a renewal request must fit.
const (
	receiptMax       = 50  // "tblPremium"."Receipt" varchar(50)
	sourceVersionMax = 15  // "SourceVersion" varchar(15)
	requestKeyMax    = 200 // imis_gateway.renewal.request_key
)

// RenewalQuote is what the officer sees before confirming a renewal.
type RenewalQuote struct {
	CHFID     string // as entered (any family member's)
	FamilyID  int
	HeadCHFID string
	HeadName  string // other names, then last name
	HeadPhone string // as stored, free text

	ProductID   int // the product renewed into (after conversion)
	ProductCode string
	ProductName string
	Converted   bool // the previous policy's product converts to ProductCode

	PreviousPolicyID    int
	PreviousProductCode string
	PreviousExpiry      time.Time

	Start, Expiry time.Time
	Value         Money // the amount due ("PolicyValue")
	Discounted    bool  // the renewal discount is in Value
	Members       int   // members covered
	// OtherProducts are the codes of the family's other renewable products,
	// for a "RENEW ... <product code>" of another one.
	OtherProducts []string
}

// RenewalRequest is a confirmed renewal.
type RenewalRequest struct {
	CHFID       string // any family member's insurance number
	ProductCode string // optional: the family's latest policy's product otherwise
	Receipt     string
	Amount      Money // paid
	// MaxOverpayment is how much Amount may exceed the value and still be
	// accepted (RENEWAL_MAX_OVERPAYMENT); 0, the default, refuses any
	// amount above the value with ReasonAmountTooHigh.
	MaxOverpayment Money
	OfficerPhone   string
	Channel        string    // ChannelUSSD or ChannelSMS
	Today          time.Time // the scheme-local date
	// RequestKey identifies one confirmation by the caller, e.g.
	// "ussd:<session id>" or "sms:<provider message id>": the same key
	// returns the earlier result and writes nothing. It must differ for two
	// different renewals (say, two families renewed in one USSD session).
	RequestKey    string
	SourceVersion string // the gateway's version, "SourceVersion" (15 bytes kept)
	AuditUserID   int    // 0: DefaultAuditUserID
	// SMSProvider sends the confirmation SMS (a provider that can send SMS).
	// Required, like Messages.
	SMSProvider string
	// Messages words the confirmation SMS for RecipientOfficer and
	// RecipientHead, in the recipient's language. Required: the store
	// writes no text of its own, so a request without it is not written,
	// and an empty text fails the renewal, which is then not written either.
	Messages func(res RenewalResult, to string) string
}

// RenewalResult is a renewal written, now or earlier.
type RenewalResult struct {
	PolicyID    int
	PolicyUUID  string
	CHFID       string
	FamilyID    int
	HeadName    string
	ProductCode string
	ProductName string
	Start       time.Time
	Expiry      time.Time
	Value       Money // due
	Amount      Money // paid
	Receipt     string
	Status      int  // PolicyIdle, PolicyActive or PolicyReady, as written
	Active      bool // Status == PolicyActive
	// Repeated: this renewal was written by an earlier request (the same
	// RequestKey, or the same receipt for the same family and product);
	// nothing was written now.
	Repeated bool
}

// Normalize trims the request's fields, fills its defaults and refuses
// (ReasonInvalidRequest) what cannot be written: an unknown channel, no
// date, a receipt that is empty, too long or holds control characters, an
// amount paid of 0 or less or beyond numeric(18,2), a negative or
// impossible overpayment, a product code or request key with control
// characters, a request key longer than 200 bytes. SourceVersion is cut to
// its column. The insurance number is trimmed only: whether it can be one
// depends on the database's column.
func (r *RenewalRequest) Normalize() error {
	r.CHFID = strings.TrimSpace(r.CHFID)
	r.ProductCode = strings.TrimSpace(r.ProductCode)
	r.Receipt = strings.TrimSpace(r.Receipt)
	r.RequestKey = strings.TrimSpace(r.RequestKey)
	r.Channel = strings.ToUpper(strings.TrimSpace(r.Channel))
	switch {
	case r.Channel != ChannelUSSD && r.Channel != ChannelSMS:
		return Refuse(ReasonInvalidRequest, "channel %q", r.Channel)
	case r.Today.IsZero():
		return Refuse(ReasonInvalidRequest, "no date")
	case r.Receipt == "" || !printable(r.Receipt) || utf8.RuneCountInString(r.Receipt) > receiptMax:
		return Refuse(ReasonInvalidRequest, "receipt %q", r.Receipt)
	case r.Amount <= 0 || r.Amount > MaxMoney:
		return Refuse(ReasonInvalidRequest, "amount %s", r.Amount)
	case r.MaxOverpayment < 0 || r.MaxOverpayment > MaxMoney:
		return Refuse(ReasonInvalidRequest, "overpayment accepted %s", r.MaxOverpayment)
	case !printable(r.ProductCode) || !printable(r.RequestKey) || len(r.RequestKey) > requestKeyMax:
		return Refuse(ReasonInvalidRequest, "product code or request key")
	}
	r.Today = DateOf(r.Today)
	if r.AuditUserID == 0 {
		r.AuditUserID = DefaultAuditUserID
	}
	r.SourceVersion = clip.Bytes(strings.TrimSpace(r.SourceVersion), sourceVersionMax)
	return nil
}

// printable: valid UTF-8 without control characters (PostgreSQL refuses
// NUL; the others have no place in a receipt number or a key).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Family is everything a renewal of one family is decided on, as read from
// openIMIS: its current members, its current policies, and the products
// involved.
type Family struct {
	ID       int // "FamilyID"
	HeadID   int // "tblFamilies"."InsureeID"
	Location int // "tblFamilies"."LocationId", the village; 0 when NULL
	Members  []FamilyMember
	Policies []FamilyPolicy
	// Products are the products of the family's policies and the product
	// asked for by code, with every product they convert to, by "ProdID".
	Products map[int]Product
}

// FamilyMember is a current member of a family ("tblInsuree").
type FamilyMember struct {
	InsureeID    int
	CHFID        string
	LastName     string
	OtherNames   string
	Phone        string
	IsHead       bool
	DOB          time.Time // zero when unknown
	Relationship int       // 0 when NULL
	ValidityFrom time.Time
	Status       string // "AC", "IN", "DE", or "" (NULL, or no such column)
}

// FamilyPolicy is a current policy of a family ("tblPolicy").
type FamilyPolicy struct {
	ID, ProductID int
	Status        int
	Stage         string
	Start         time.Time
	Expiry        time.Time // zero when NULL
}

// Product is a "tblProduct" row, as far as renewing into it goes.
type Product struct {
	ID               int
	Code, Name       string
	Current          bool // "ValidityTo" IS NULL
	DateFrom, DateTo time.Time
	ConversionID     int // "ConversionProdID"; 0 when NULL
	Pricing          Pricing
	InsurancePeriod  int       // months
	GraceRenewal     int       // "GracePeriodRenewal", months
	Cycles           [4]string // "StartCycle1".."StartCycle4", as stored
}

// RenewalPlan is a renewal decided: what the officer is quoted, and whom it
// covers.
type RenewalPlan struct {
	Quote RenewalQuote
	// Covered are the "InsureeID"s of the members the renewal covers,
	// ascending.
	Covered []int
}

// maxConversions bounds a "ConversionProdID" chain.
const maxConversions = 16

// PlanRenewal decides the renewal of family f that officer would write on
// today, for the insurance number chfid (any member's, as entered) and,
// when productCode is not empty, into that product. Refusals are
// *RefusalError; a family outside the officer's area is refused
// (ReasonOutsideArea) before anything else is decided, so that an officer
// learns nothing of other officers' families.
//
// The previous policy is the family's latest policy ("ExpiryDate", then
// "PolicyID") with status Active or Expired, started by today, of the
// product or of a product converting to it through "ConversionProdID". A
// renewal exists already when another policy of the product starts after
// the previous one expires, or is an Idle or Ready renewal (stage 'R').
// Without a product code, the product is that of the family's latest such
// policy whose product (or conversion) can be renewed. A product can be
// renewed into when its row is current and today is within
// "DateFrom".."DateTo"; otherwise its "ConversionProdID" chain is followed.
//
// Members who died or were made inactive ("tblInsuree"."status" DE or IN)
// are neither priced nor covered; the others are priced by RenewalValue and
// covered up to the product's "MemberCount" (chooseCovered). The period is
// RenewalPeriod's.
func PlanRenewal(f Family, officer Officer, chfid, productCode string, today time.Time) (RenewalPlan, error) {
	if !officer.Covers(f.Location) {
		return RenewalPlan{}, OutsideArea(officer, f.ID, f.Location)
	}
	return planFamily(f, chfid, productCode, today)
}

// QuoteRenewal is the quote PlanRenewal gives any officer of the family's
// area: what the family would pay, for a renewal reminder, which no
// officer asks for.
func QuoteRenewal(f Family, chfid, productCode string, today time.Time) (RenewalQuote, error) {
	p, err := planFamily(f, chfid, productCode, today)
	return p.Quote, err
}

func planFamily(f Family, chfid, productCode string, today time.Time) (RenewalPlan, error) {
	today = DateOf(today)
	candidates := previousCandidates(f.Policies, today)
	prod, err := f.productRenewed(candidates, productCode, today)
	if err != nil {
		return RenewalPlan{}, err
	}
	prev, err := f.previousPolicy(candidates, prod)
	if err != nil {
		return RenewalPlan{}, err
	}

	cycles, err := ParseCycles(prod.Cycles[:]...)
	if err != nil {
		return RenewalPlan{}, Refuse(ReasonProductNotRenewable, "product %s: %v", prod.Code, err)
	}
	start, expiry, err := RenewalPeriod(Terms{InsurancePeriod: prod.InsurancePeriod, GracePeriodRenewal: prod.GraceRenewal, Cycles: cycles}, today, prev.Expiry)
	if err != nil {
		return RenewalPlan{}, Refuse(ReasonProductNotRenewable, "product %s: %v", prod.Code, err)
	}

	head, eligible, priced := f.eligible()
	if len(eligible) == 0 {
		return RenewalPlan{}, Refuse(ReasonNoMembers, "family %d has no living active member", f.ID)
	}
	covered := chooseCovered(eligible, prod.Pricing.MemberCount, today, DefaultAgeOfMajority)
	val, err := RenewalValue(ValueInput{Pricing: prod.Pricing, Members: priced, Today: today,
		EnrollDate: today, PreviousExpiry: prev.Expiry})
	if err != nil {
		return RenewalPlan{}, Refuse(ReasonProductNotRenewable, "product %s: %v", prod.Code, err)
	}

	q := RenewalQuote{
		CHFID: chfid, FamilyID: f.ID,
		HeadCHFID: head.CHFID, HeadName: PersonName(head.OtherNames, head.LastName), HeadPhone: head.Phone,
		ProductID: prod.ID, ProductCode: prod.Code, ProductName: prod.Name,
		PreviousPolicyID: prev.ID, PreviousExpiry: DateOf(prev.Expiry),
		Start: start, Expiry: expiry, Value: val.Value, Discounted: val.Discounted, Members: len(covered),
	}
	if pp, ok := f.Products[prev.ProductID]; ok {
		q.PreviousProductCode = pp.Code
		q.Converted = pp.ID != prod.ID
	}
	for _, c := range candidates {
		if t, ok := f.target(c.ProductID, today); ok && t.ID != prod.ID && !slices.Contains(q.OtherProducts, t.Code) {
			q.OtherProducts = append(q.OtherProducts, t.Code)
		}
	}
	ids := make([]int, len(covered))
	for i, m := range covered {
		ids[i] = m.InsureeID
	}
	return RenewalPlan{Quote: q, Covered: ids}, nil
}

// previousCandidates are the policies a renewal may continue: Active or
// Expired, with an expiry date, started by today; latest expiry first. One
// that has not started yet is no previous policy but a renewal already
// made (it is then "later" than the previous one): renewing it would sell
// the family a second period ahead.
func previousCandidates(policies []FamilyPolicy, today time.Time) []FamilyPolicy {
	var out []FamilyPolicy
	for _, p := range policies {
		if (p.Status == PolicyActive || p.Status == PolicyExpired) && !p.Expiry.IsZero() && !DateOf(p.Start).After(today) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b FamilyPolicy) int {
		return cmp.Or(b.Expiry.Compare(a.Expiry), b.ID-a.ID)
	})
	return out
}

// productRenewed is the product the renewal is into: the one named by
// productCode (or what it converts to), else that of the latest candidate
// whose product (or conversion) is sold today.
func (f Family) productRenewed(candidates []FamilyPolicy, productCode string, today time.Time) (Product, error) {
	if productCode != "" {
		var named []Product
		for _, p := range f.Products {
			if p.Current && strings.EqualFold(strings.TrimSpace(p.Code), productCode) {
				named = append(named, p)
			}
		}
		if len(named) == 0 {
			return Product{}, Refuse(ReasonUnknownProduct, "no current product %q", productCode)
		}
		slices.SortFunc(named, func(a, b Product) int { return a.ID - b.ID })
		for _, n := range named {
			if prod, ok := f.target(n.ID, today); ok {
				return prod, nil
			}
		}
		return Product{}, Refuse(ReasonProductNotRenewable, "product %s is not sold on %s and converts to no product that is", productCode, today.Format(time.DateOnly))
	}
	if len(candidates) == 0 {
		return Product{}, Refuse(ReasonNoPreviousPolicy, "family %d has no active or expired policy", f.ID)
	}
	for _, c := range candidates {
		if prod, ok := f.target(c.ProductID, today); ok {
			return prod, nil
		}
	}
	return Product{}, Refuse(ReasonProductNotRenewable, "no product of family %d's policies is sold on %s, nor converts to one that is", f.ID, today.Format(time.DateOnly))
}

// previousPolicy is the latest candidate of prod (or of a product
// converting to it), refused when a renewal of it exists already.
func (f Family) previousPolicy(candidates []FamilyPolicy, prod Product) (FamilyPolicy, error) {
	i := slices.IndexFunc(candidates, func(c FamilyPolicy) bool { return f.renews(c.ProductID, prod.ID) })
	if i < 0 {
		return FamilyPolicy{}, Refuse(ReasonNoPreviousPolicy, "family %d has no active or expired policy of %s", f.ID, prod.Code)
	}
	prev := candidates[i]
	for _, p := range f.Policies {
		if p.ID == prev.ID || !f.renews(p.ProductID, prod.ID) {
			continue
		}
		later := p.Start.After(prev.Expiry)
		idleRenewal := p.Stage == "R" && (p.Status == PolicyIdle || p.Status == PolicyReady)
		if later || idleRenewal {
			return FamilyPolicy{}, Refuse(ReasonRenewalExists, "policy %d (status %d, stage %s, start %s) follows policy %d",
				p.ID, p.Status, p.Stage, p.Start.Format(time.DateOnly), prev.ID)
		}
	}
	return prev, nil
}

// target is the product a policy of prodID renews into on today: prodID's
// own when it is sold then, else the first of its conversions that is.
func (f Family) target(prodID int, today time.Time) (Product, bool) {
	for range maxConversions {
		p, ok := f.Products[prodID]
		if !ok {
			return Product{}, false
		}
		if p.soldOn(today) {
			return p, true
		}
		if p.ConversionID == 0 {
			return Product{}, false
		}
		prodID = p.ConversionID
	}
	return Product{}, false
}

// renews reports whether prodID is targetID or converts to it.
func (f Family) renews(prodID, targetID int) bool {
	for range maxConversions {
		if prodID == targetID {
			return true
		}
		p, ok := f.Products[prodID]
		if !ok || p.ConversionID == 0 {
			return false
		}
		prodID = p.ConversionID
	}
	return false
}

// soldOn: the product's row is current and today is within its dates.
func (p Product) soldOn(today time.Time) bool {
	return p.Current && !today.Before(DateOf(p.DateFrom.UTC())) && !today.After(DateOf(p.DateTo.UTC()))
}

// eligible returns the family's head, and the members a renewal may cover
// and price: all but those who died or were made inactive.
func (f Family) eligible() (head FamilyMember, covered []coveredMember, priced []Member) {
	for _, m := range f.Members {
		if m.InsureeID == f.HeadID || (head.InsureeID == 0 && m.IsHead) {
			head = m
		}
		if m.Status == "DE" || m.Status == "IN" {
			continue
		}
		covered = append(covered, coveredMember{InsureeID: m.InsureeID, IsHead: m.InsureeID == f.HeadID,
			DOB: m.DOB, Relationship: m.Relationship, ValidityFrom: m.ValidityFrom})
		priced = append(priced, Member{DOB: m.DOB, Relationship: m.Relationship})
	}
	return head, covered, priced
}

// PersonName is other names, then last name, in single spaces.
func PersonName(other, last string) string {
	return strings.Join(strings.Fields(other+" "+last), " ")
}

// Payment is what the amount paid makes of a planned renewal.
type Payment struct {
	Status int // PolicyActive, PolicyReady or PolicyIdle
	// Effective is the policy's "EffectiveDate": the later of today (the
	// pay date) and the start, once paid in full; zero while Idle.
	Effective time.Time
}

// Pay decides the status of the planned renewal paid amount on today:
// Active from its effective date when amount covers the value (Ready when
// activation is ActivationReady), Idle otherwise. An amount above the value
// by more than maxOverpayment is refused with ReasonAmountTooHigh, which
// names the value (RefusalError.Due).
func (p RenewalPlan) Pay(amount, maxOverpayment Money, activation int, today time.Time) (Payment, error) {
	q := p.Quote
	if err := checkAmount(amount, q.Value, maxOverpayment); err != nil {
		return Payment{}, err
	}
	if amount < q.Value {
		return Payment{Status: PolicyIdle}, nil
	}
	pay := Payment{Status: PolicyActive, Effective: q.Start}
	if activation == ActivationReady {
		pay.Status = PolicyReady
	}
	if today = DateOf(today); today.After(pay.Effective) {
		pay.Effective = today
	}
	return pay, nil
}

// checkAmount refuses an amount paid above the value (the amount due) by
// more than maxOver, with the value for the answer to name. Both are at
// most MaxMoney, so that their sum cannot overflow.
func checkAmount(amount, value, maxOver Money) error {
	if amount <= value+maxOver {
		return nil
	}
	return &RefusalError{Reason: ReasonAmountTooHigh, Due: value,
		Detail: fmt.Sprintf("amount %s is above the value %s by more than the %s accepted", amount, value, maxOver)}
}
