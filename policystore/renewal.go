package policystore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Policy status and stage codes (openimis.md §0.1.4).
const (
	PolicyIdle      = 1
	PolicyActive    = 2
	PolicySuspended = 4
	PolicyExpired   = 8
	PolicyReady     = 16
)

// Channels a renewal comes in by; written to "Source".
const (
	ChannelUSSD = "USSD"
	ChannelSMS  = "SMS"
)

// Recipients of the confirmation SMS, as RenewalMessages sees them.
const (
	RecipientOfficer = "officer"
	RecipientHead    = "head"
)

// DefaultSMSProvider sends the confirmation SMS unless the request names
// another provider.
const DefaultSMSProvider = "africastalking"

// DefaultAuditUserID is written to "AuditUserID" when the request has none
// (GATEWAY_AUDIT_USER_ID, DESIGN.md §2.1).
const DefaultAuditUserID = -1

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

func refuse(r RefusalReason, format string, args ...any) error {
	return &RefusalError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

func outsideArea(o Officer, familyID, location int) error {
	return refuse(ReasonOutsideArea, "family %d (location %d) is outside officer %s's area", familyID, location, o.Code)
}

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
	SourceVersion string // the gateway's version, "SourceVersion" (15 characters kept)
	AuditUserID   int    // 0: DefaultAuditUserID
	// SMSProvider sends the confirmation SMS; default DefaultSMSProvider.
	SMSProvider string
	// Messages renders the confirmation SMS for RecipientOfficer and
	// RecipientHead; nil (or an empty text) takes the English defaults.
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

// RenewalQuote resolves an insurance number to the renewal an officer would
// write today: the family, its previous policy and the product, the new
// period and the amount due. Refusals are *RefusalError.
//
// The previous policy is the family's latest current policy ("ExpiryDate",
// then "PolicyID") with status Active or Expired, started by today, of the
// product or of a product converting to it through "ConversionProdID"
// (openimis.md §3.8). A renewal exists already when another current policy
// of the product starts after the previous one expires, or is an Idle or
// Ready renewal (stage 'R').
// Without a product code, the product is that of the family's latest such
// policy whose product (or conversion) can be renewed. A product can be
// renewed into when its row is current and today is within
// "DateFrom".."DateTo"; otherwise its "ConversionProdID" chain is followed.
//
// A family whose village ("tblFamilies"."LocationId") the officer does not
// cover (Officer.Covers, from the officer index) is refused with
// ReasonOutsideArea before anything else is decided, so that an officer
// learns nothing of other officers' families; Renew checks the area again
// against the database as it is then.
func (s *Store) RenewalQuote(ctx context.Context, officer Officer, chfid, productCode string, today time.Time) (RenewalQuote, error) {
	chfid, productCode = strings.TrimSpace(chfid), strings.TrimSpace(productCode)
	if err := s.checkCHFID(chfid); err != nil {
		return RenewalQuote{}, err
	}
	if today.IsZero() {
		return RenewalQuote{}, refuse(ReasonInvalidRequest, "no date")
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	fam, err := s.loadFamily(ctx, s.pool, chfid, productCode, false)
	if err != nil {
		return RenewalQuote{}, err
	}
	if !officer.Covers(fam.location) {
		return RenewalQuote{}, outsideArea(officer, fam.familyID, fam.location)
	}
	p, err := fam.plan(chfid, productCode, DateOf(today))
	if err != nil {
		return RenewalQuote{}, err
	}
	return p.quote, nil
}

// checkCHFID refuses what cannot be an insurance number before it reaches
// PostgreSQL.
func (s *Store) checkCHFID(chfid string) error {
	if !s.validCHFID(chfid) {
		return refuse(ReasonUnknownNumber, "not an insurance number")
	}
	return nil
}

// validCHFID tells whether chfid could be an insurance number at all.
// PostgreSQL rejects NUL bytes and invalid UTF-8 in text parameters, and no
// stored number is longer than the column: such input is an unknown number,
// not a database error.
func (s *Store) validCHFID(chfid string) bool {
	return chfid != "" && utf8.ValidString(chfid) && !strings.ContainsRune(chfid, 0) &&
		(s.cols.CHFIDMaxLen <= 0 || utf8.RuneCountInString(chfid) <= s.cols.CHFIDMaxLen)
}

// Columns of the family queries. All three are keyed by the insurance
// number, so that they go to PostgreSQL in one batch (one round trip); the
// oldest current insuree with the number answers, as in Coverage.
const familyCTE = `
WITH q AS (
  SELECT "FamilyID" FROM "tblInsuree"
  WHERE "CHFID" = $1 AND "ValidityTo" IS NULL
  ORDER BY "InsureeID" LIMIT 1
)`

// membersSQL lists the family's current members; %s is the insuree status
// column where it exists ("tblInsuree"."status", Django insuree 0017).
const membersSQL = familyCTE + `
SELECT f."FamilyID", f."InsureeID", COALESCE(f."LocationId", 0), i."InsureeID", COALESCE(i."CHFID", ''), i."LastName", i."OtherNames",
       COALESCE(i."Phone", ''), i."IsHead", i."DOB", COALESCE(i."Relationship", 0), i."ValidityFrom", %s
FROM q
JOIN "tblFamilies" f ON f."FamilyID" = q."FamilyID" AND f."ValidityTo" IS NULL
JOIN "tblInsuree" i ON i."FamilyID" = f."FamilyID" AND i."ValidityTo" IS NULL
ORDER BY i."InsureeID"`

const policiesSQL = familyCTE + `
SELECT p."PolicyID", p."ProdID", COALESCE(p."PolicyStatus", 0), COALESCE(p."PolicyStage", ''),
       p."StartDate", p."ExpiryDate"
FROM q JOIN "tblPolicy" p ON p."FamilyID" = q."FamilyID" AND p."ValidityTo" IS NULL
ORDER BY p."PolicyID"`

// productsSQL reads the products of the family's policies and the product
// asked for by code, with everything they convert to. UNION (not UNION ALL)
// makes a conversion loop end.
const productsSQL = `
WITH RECURSIVE q AS (
  SELECT "FamilyID" FROM "tblInsuree"
  WHERE "CHFID" = $1 AND "ValidityTo" IS NULL
  ORDER BY "InsureeID" LIMIT 1
), reach(id) AS (
  SELECT p."ProdID" FROM q JOIN "tblPolicy" p ON p."FamilyID" = q."FamilyID" AND p."ValidityTo" IS NULL
  UNION
  SELECT "ProdID" FROM "tblProduct" WHERE $2 <> '' AND upper("ProductCode") = upper($2) AND "ValidityTo" IS NULL
  UNION
  SELECT pr."ConversionProdID" FROM reach JOIN "tblProduct" pr ON pr."ProdID" = reach.id
  WHERE pr."ConversionProdID" IS NOT NULL
)
SELECT pr."ProdID", pr."ProductCode", pr."ProductName", pr."ValidityTo" IS NULL, pr."DateFrom", pr."DateTo",
       COALESCE(pr."ConversionProdID", 0), pr."InsurancePeriod", pr."LumpSum", pr."MemberCount",
       COALESCE(pr."Threshold", 0), pr."PremiumAdult", pr."PremiumChild",
       pr."GeneralAssemblyLumpSum", pr."GeneralAssemblyFee", COALESCE(pr."GracePeriodRenewal", 0),
       COALESCE(pr."RenewalDiscountPerc", 0), COALESCE(pr."RenewalDiscountPeriod", 0),
       COALESCE(pr."StartCycle1", ''), COALESCE(pr."StartCycle2", ''),
       COALESCE(pr."StartCycle3", ''), COALESCE(pr."StartCycle4", '')
FROM reach JOIN "tblProduct" pr ON pr."ProdID" = reach.id
ORDER BY pr."ProdID"`

// activationSQL: "ActivationOption" 3 activates paid policies to Ready (16)
// instead of Active (openimis.md §1.2, §3.7).
const activationSQL = `SELECT COALESCE((SELECT "ActivationOption" FROM "tblIMISDefaults" ORDER BY "DefaultID" LIMIT 1), 2)`

type memberRow struct {
	InsureeID    int
	CHFID        string
	LastName     string
	OtherNames   string
	Phone        string
	IsHead       bool
	DOB          time.Time
	Relationship int
	ValidityFrom time.Time
	Status       string // "AC", "IN", "DE", or "" (NULL or no column)
}

type policyRow struct {
	ID, ProdID int
	Status     int
	Stage      string
	Start      time.Time
	Expiry     time.Time // zero when NULL
}

type productRow struct {
	ID               int
	Code, Name       string
	Current          bool
	DateFrom, DateTo time.Time
	ConversionID     int
	Pricing          Pricing
	InsurancePeriod  int
	GraceRenewal     int
	Cycles           [4]string
}

// familyData is everything a renewal of one family is decided on.
type familyData struct {
	familyID, headID int
	location         int // "tblFamilies"."LocationId", the village; 0 when NULL
	members          []memberRow
	policies         []policyRow
	products         map[int]productRow
	activation       int
}

// querier is a pool or a transaction.
type querier interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// loadFamily reads the family of chfid, its policies and the products
// involved, in one round trip.
func (s *Store) loadFamily(ctx context.Context, q querier, chfid, productCode string, withActivation bool) (*familyData, error) {
	status := "NULL::text"
	if s.cols.InsureeStatus {
		status = `i."status"`
	}
	b := &pgx.Batch{}
	fam := &familyData{products: map[int]productRow{}, activation: 2}
	b.Queue(fmt.Sprintf(membersSQL, status), chfid).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				m        memberRow
				dob      *time.Time
				st       *string
				rel      int16
				headID   int
				familyID int
				location int
			)
			if err := rows.Scan(&familyID, &headID, &location, &m.InsureeID, &m.CHFID, &m.LastName, &m.OtherNames,
				&m.Phone, &m.IsHead, &dob, &rel, &m.ValidityFrom, &st); err != nil {
				return err
			}
			fam.familyID, fam.headID, fam.location = familyID, headID, location
			m.DOB = derefTime(dob)
			if st != nil {
				m.Status = strings.ToUpper(strings.TrimSpace(*st))
			}
			m.Relationship = int(rel)
			fam.members = append(fam.members, m)
		}
		return rows.Err()
	})
	b.Queue(policiesSQL, chfid).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				p      policyRow
				status int16
				expiry *time.Time
			)
			if err := rows.Scan(&p.ID, &p.ProdID, &status, &p.Stage, &p.Start, &expiry); err != nil {
				return err
			}
			p.Status = int(status)
			p.Expiry = derefTime(expiry)
			fam.policies = append(fam.policies, p)
		}
		return rows.Err()
	})
	b.Queue(productsSQL, chfid, productCode).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				p                              productRow
				period, memberCount            int16
				threshold, grace, perc, months int32
			)
			if err := rows.Scan(&p.ID, &p.Code, &p.Name, &p.Current, &p.DateFrom, &p.DateTo, &p.ConversionID,
				&period, &p.Pricing.LumpSum, &memberCount, &threshold, &p.Pricing.PremiumAdult, &p.Pricing.PremiumChild,
				&p.Pricing.GeneralAssemblyLumpSum, &p.Pricing.GeneralAssemblyFee, &grace, &perc, &months,
				&p.Cycles[0], &p.Cycles[1], &p.Cycles[2], &p.Cycles[3]); err != nil {
				return err
			}
			p.InsurancePeriod, p.GraceRenewal = int(period), int(grace)
			p.Pricing.MemberCount, p.Pricing.Threshold = int(memberCount), int(threshold)
			p.Pricing.RenewalDiscountPerc, p.Pricing.RenewalDiscountPeriod = int(perc), int(months)
			fam.products[p.ID] = p
		}
		return rows.Err()
	})
	if withActivation {
		b.Queue(activationSQL).QueryRow(func(row pgx.Row) error {
			var v int16
			err := row.Scan(&v)
			fam.activation = int(v)
			return err
		})
	}
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("policystore: read family of %s: %w", chfid, err)
	}
	if len(fam.members) == 0 {
		return nil, refuse(ReasonUnknownNumber, "no current insuree %s", chfid)
	}
	return fam, nil
}

// renewalPlan is a decided renewal: the quote, and what the write needs.
type renewalPlan struct {
	quote    RenewalQuote
	product  productRow
	previous policyRow
	covered  []coveredMember
	head     memberRow
}

// maxConversions bounds a "ConversionProdID" chain.
const maxConversions = 16

// plan decides the renewal of the family on today.
func (f *familyData) plan(chfid, productCode string, today time.Time) (renewalPlan, error) {
	inWindow := func(p productRow) bool {
		return p.Current && !today.Before(DateOf(p.DateFrom.UTC())) && !today.After(DateOf(p.DateTo.UTC()))
	}
	// target is the product a policy of prodID renews into.
	target := func(prodID int) (productRow, bool) {
		for range maxConversions {
			p, ok := f.products[prodID]
			if !ok {
				return productRow{}, false
			}
			if inWindow(p) {
				return p, true
			}
			if p.ConversionID == 0 {
				return productRow{}, false
			}
			prodID = p.ConversionID
		}
		return productRow{}, false
	}
	// renews reports whether prodID is targetID or converts to it.
	renews := func(prodID, targetID int) bool {
		for range maxConversions {
			if prodID == targetID {
				return true
			}
			p, ok := f.products[prodID]
			if !ok || p.ConversionID == 0 {
				return false
			}
			prodID = p.ConversionID
		}
		return false
	}

	// Active or expired policies that have started, latest expiry first. One
	// that has not started yet is no previous policy but a renewal already
	// made (it is then "later" than the previous one, below): renewing it
	// would sell the family a second period ahead.
	var candidates []policyRow
	for _, p := range f.policies {
		if (p.Status == PolicyActive || p.Status == PolicyExpired) && !p.Expiry.IsZero() && !DateOf(p.Start).After(today) {
			candidates = append(candidates, p)
		}
	}
	slices.SortFunc(candidates, func(a, b policyRow) int {
		return cmp.Or(b.Expiry.Compare(a.Expiry), b.ID-a.ID)
	})

	var prod productRow
	if productCode != "" {
		var named []productRow
		for _, p := range f.products {
			if p.Current && strings.EqualFold(strings.TrimSpace(p.Code), productCode) {
				named = append(named, p)
			}
		}
		if len(named) == 0 {
			return renewalPlan{}, refuse(ReasonUnknownProduct, "no current product %q", productCode)
		}
		slices.SortFunc(named, func(a, b productRow) int { return a.ID - b.ID })
		var ok bool
		for _, n := range named {
			if prod, ok = target(n.ID); ok {
				break
			}
		}
		if !ok {
			return renewalPlan{}, refuse(ReasonProductNotRenewable, "product %s is not sold on %s and converts to no product that is", productCode, today.Format(time.DateOnly))
		}
	} else {
		if len(candidates) == 0 {
			return renewalPlan{}, refuse(ReasonNoPreviousPolicy, "family %d has no active or expired policy", f.familyID)
		}
		ok := false
		for _, c := range candidates {
			if prod, ok = target(c.ProdID); ok {
				break
			}
		}
		if !ok {
			return renewalPlan{}, refuse(ReasonProductNotRenewable, "no product of family %d's policies is sold on %s, nor converts to one that is", f.familyID, today.Format(time.DateOnly))
		}
	}

	var prev policyRow
	found := false
	for _, c := range candidates {
		if renews(c.ProdID, prod.ID) {
			prev, found = c, true
			break
		}
	}
	if !found {
		return renewalPlan{}, refuse(ReasonNoPreviousPolicy, "family %d has no active or expired policy of %s", f.familyID, prod.Code)
	}
	for _, p := range f.policies {
		if p.ID == prev.ID || !renews(p.ProdID, prod.ID) {
			continue
		}
		later := p.Start.After(prev.Expiry)
		idleRenewal := p.Stage == "R" && (p.Status == PolicyIdle || p.Status == PolicyReady)
		if later || idleRenewal {
			return renewalPlan{}, refuse(ReasonRenewalExists, "policy %d (status %d, stage %s, start %s) follows policy %d",
				p.ID, p.Status, p.Stage, p.Start.Format(time.DateOnly), prev.ID)
		}
	}

	cycles, err := ParseCycles(prod.Cycles[:]...)
	if err != nil {
		return renewalPlan{}, refuse(ReasonProductNotRenewable, "product %s: %v", prod.Code, err)
	}
	start, expiry, err := RenewalPeriod(Terms{InsurancePeriod: prod.InsurancePeriod, GracePeriodRenewal: prod.GraceRenewal, Cycles: cycles}, today, prev.Expiry)
	if err != nil {
		return renewalPlan{}, refuse(ReasonProductNotRenewable, "product %s: %v", prod.Code, err)
	}

	// Members who died or were made inactive (Django's insuree status,
	// where the column exists) are neither priced nor covered.
	var (
		eligible []coveredMember
		priced   []Member
		head     memberRow
	)
	for _, m := range f.members {
		if m.InsureeID == f.headID || (head.InsureeID == 0 && m.IsHead) {
			head = m
		}
		if m.Status == "DE" || m.Status == "IN" {
			continue
		}
		eligible = append(eligible, coveredMember{InsureeID: m.InsureeID, IsHead: m.InsureeID == f.headID,
			DOB: m.DOB, Relationship: m.Relationship, ValidityFrom: m.ValidityFrom})
		priced = append(priced, Member{DOB: m.DOB, Relationship: m.Relationship})
	}
	if len(eligible) == 0 {
		return renewalPlan{}, refuse(ReasonNoMembers, "family %d has no living active member", f.familyID)
	}
	covered := chooseCovered(eligible, prod.Pricing.MemberCount, today, DefaultAgeOfMajority)
	val, err := RenewalValue(ValueInput{Pricing: prod.Pricing, Members: priced, Today: today,
		EnrollDate: today, PreviousExpiry: prev.Expiry})
	if err != nil {
		return renewalPlan{}, refuse(ReasonProductNotRenewable, "product %s: %v", prod.Code, err)
	}

	q := RenewalQuote{
		CHFID: chfid, FamilyID: f.familyID,
		HeadCHFID: head.CHFID, HeadName: personName(head.OtherNames, head.LastName), HeadPhone: head.Phone,
		ProductID: prod.ID, ProductCode: prod.Code, ProductName: prod.Name,
		PreviousPolicyID: prev.ID, PreviousExpiry: DateOf(prev.Expiry),
		Start: start, Expiry: expiry, Value: val.Value, Discounted: val.Discounted, Members: len(covered),
	}
	if pp, ok := f.products[prev.ProdID]; ok {
		q.PreviousProductCode = pp.Code
		q.Converted = pp.ID != prod.ID
	}
	for _, c := range candidates {
		if t, ok := target(c.ProdID); ok && t.ID != prod.ID && !slices.Contains(q.OtherProducts, t.Code) {
			q.OtherProducts = append(q.OtherProducts, t.Code)
		}
	}
	return renewalPlan{quote: q, product: prod, previous: prev, covered: covered, head: head}, nil
}

func personName(other, last string) string {
	return strings.Join(strings.Fields(other+" "+last), " ")
}

// Renew writes a renewal confirmed by an officer, exactly once, in one
// transaction with the family's row locked (openimis.md §3.8):
//
//   - "tblPolicy": stage 'R', status Active (2) with "EffectiveDate" =
//     max(today, start) when Amount covers the value — Ready (16) when
//     "tblIMISDefaults"."ActivationOption" is 3 —, else Idle (1) without
//     "EffectiveDate"; new lower-case UUID; "Source" the channel;
//   - "tblInsureePolicy": one row per covered member, with the policy's dates;
//   - "tblPremium": the payment, "PayType" 'C', "isPhotoFee" false;
//   - "tblPolicyRenewals": the previous policy's reminders closed
//     ("ResponseStatus" 1, "ResponseDate" and "ValidityTo" now);
//   - imis_gateway.renewal: the gateway's log, which makes the write
//     idempotent;
//   - imis_gateway.outbox: the confirmation SMS to the officer and, when a
//     phone is on record, to the family head.
//
// The same RequestKey, or the same receipt for the same family and product,
// returns the earlier result with Repeated set and writes nothing. A receipt
// already on a current premium of the product (openimis.md §3.7) refuses
// with ErrReceiptUsed, as does every other refusal of RenewalQuote, and
// ErrNotOfficer when OfficerPhone is no current officer's. The officer and
// the area are checked against the database inside the transaction, with
// the family locked, before an earlier result is looked for: an officer
// whose villages were withdrawn a moment ago gets ErrOutsideArea, and
// neither the renewal nor the family's names. An amount above the value by
// more than MaxOverpayment refuses with ErrAmountTooHigh, which carries the
// value (RefusalError.Due).
func (s *Store) Renew(ctx context.Context, req RenewalRequest) (RenewalResult, error) {
	if err := s.checkRequest(&req); err != nil {
		return RenewalResult{}, err
	}
	officer, ok, err := s.OfficerByPhone(ctx, req.OfficerPhone, req.Today)
	if err != nil {
		return RenewalResult{}, err
	}
	if !ok {
		return RenewalResult{}, refuse(ReasonNotOfficer, "no current officer has the phone")
	}

	// The family lock may queue behind other renewals of the family; two
	// query timeouts bound the whole transaction.
	ctx, cancel := context.WithTimeout(ctx, 2*s.queryTimeout)
	defer cancel()
	res, plan, err := s.renewTx(ctx, req, officer)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" &&
		(pgErr.ConstraintName == "renewal_request_key_key" || pgErr.ConstraintName == "renewal_family_product_receipt_key") {
		// A concurrent request with the same key (for another family, so
		// not serialised by the family lock) committed first.
		if earlier, found, lerr := s.earlierRenewal(ctx, s.pool, req.RequestKey, plan.quote.FamilyID, plan.product.ID, req.Receipt); lerr == nil && found {
			return earlier, nil
		}
		return RenewalResult{}, refuse(ReasonReceiptUsed, "receipt %q: %s", req.Receipt, pgErr.ConstraintName)
	}
	return res, err
}

func (s *Store) checkRequest(req *RenewalRequest) error {
	req.CHFID = strings.TrimSpace(req.CHFID)
	req.ProductCode = strings.TrimSpace(req.ProductCode)
	req.Receipt = strings.TrimSpace(req.Receipt)
	req.RequestKey = strings.TrimSpace(req.RequestKey)
	req.Channel = strings.ToUpper(strings.TrimSpace(req.Channel))
	if err := s.checkCHFID(req.CHFID); err != nil {
		return err
	}
	switch {
	case req.Channel != ChannelUSSD && req.Channel != ChannelSMS:
		return refuse(ReasonInvalidRequest, "channel %q", req.Channel)
	case req.Today.IsZero():
		return refuse(ReasonInvalidRequest, "no date")
	case req.Receipt == "" || !printable(req.Receipt) || utf8.RuneCountInString(req.Receipt) > 50: // "Receipt" varchar(50)
		return refuse(ReasonInvalidRequest, "receipt %q", req.Receipt)
	case req.Amount <= 0 || req.Amount > MaxMoney:
		return refuse(ReasonInvalidRequest, "amount %s", req.Amount)
	case req.MaxOverpayment < 0 || req.MaxOverpayment > MaxMoney:
		return refuse(ReasonInvalidRequest, "overpayment accepted %s", req.MaxOverpayment)
	case !printable(req.ProductCode) || !printable(req.RequestKey) || len(req.RequestKey) > 200:
		return refuse(ReasonInvalidRequest, "product code or request key")
	}
	req.Today = DateOf(req.Today)
	if req.AuditUserID == 0 {
		req.AuditUserID = DefaultAuditUserID
	}
	if req.SMSProvider == "" {
		req.SMSProvider = DefaultSMSProvider
	}
	req.SourceVersion = truncateRunes(strings.TrimSpace(req.SourceVersion), 15) // "SourceVersion" varchar(15)
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

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// lockFamilySQL locks the family of the insurance number: renewals of one
// family queue here, and each sees what the previous one committed. It
// reads the family's village for the officer's area.
const lockFamilySQL = `
SELECT f."FamilyID", COALESCE(f."LocationId", 0)
FROM "tblInsuree" i JOIN "tblFamilies" f ON f."FamilyID" = i."FamilyID" AND f."ValidityTo" IS NULL
WHERE i."CHFID" = $1 AND i."ValidityTo" IS NULL
ORDER BY i."InsureeID" LIMIT 1
FOR UPDATE OF f`

// Receipts are unique per product among current premiums (openimis.md §3.7).
// Two families paying with the same receipt are not serialised by the family
// lock, so the check holds a transaction lock on the product and receipt.
const (
	lockReceiptSQL = `SELECT pg_advisory_xact_lock(hashtextextended('imis_gateway.receipt:' || $1::int || ':' || $2::text, 0))`
	receiptSQL     = `
SELECT EXISTS (
  SELECT 1 FROM "tblPremium" pr JOIN "tblPolicy" pl ON pl."PolicyID" = pr."PolicyID"
  WHERE pr."Receipt" = $1 AND pr."ValidityTo" IS NULL AND pl."ProdID" = $2)`
)

const insertPolicySQL = `
INSERT INTO "tblPolicy" ("PolicyUUID", "FamilyID", "ProdID", "OfficerID", "PolicyStage", "PolicyStatus",
  "PolicyValue", "EnrollDate", "StartDate", "EffectiveDate", "ExpiryDate", "isOffline", "ValidityFrom",
  "AuditUserID", "Source", "SourceVersion"%s)
VALUES ($1, $2, $3, $4, 'R', $5, $6, $7, $8, $9, $10, false, now(), $11, $12, $13%s)
RETURNING "PolicyID"`

const insertInsureePoliciesSQL = `
INSERT INTO "tblInsureePolicy" ("InsureeID", "PolicyId", "EnrollmentDate", "StartDate", "EffectiveDate",
  "ExpiryDate", "isOffline", "ValidityFrom", "AuditUserID")
SELECT m, $2::int, $3::date, $4::date, $5::date, $6::date, false, now(), $7::int
FROM unnest($1::int[]) AS m ORDER BY m`

const insertPremiumSQL = `
INSERT INTO "tblPremium" ("PremiumUUID", "PolicyID", "PayerID", "Amount", "Receipt", "PayDate", "PayType",
  "isPhotoFee", "isOffline", "ValidityFrom", "AuditUserID", "CreatedDate", "Source", "SourceVersion")
VALUES ($1, $2, NULL, $3, $4, $5, 'C', false, false, now(), $6, $5, $7, $8)`

const closeRemindersSQL = `
UPDATE "tblPolicyRenewals" SET "ResponseStatus" = 1, "ResponseDate" = now(), "ValidityTo" = now()
WHERE "PolicyID" = $1 AND "ValidityTo" IS NULL`

const insertLogSQL = `
INSERT INTO imis_gateway.renewal (policy_id, policy_uuid, previous_policy_id, family_id, product_id,
  officer_id, chfid, receipt, amount, value, start_date, expiry_date, status, channel, request_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

// renewTx is Renew's transaction. It returns the plan too, for mapping a
// unique violation to the earlier renewal.
func (s *Store) renewTx(ctx context.Context, req RenewalRequest, officer Officer) (RenewalResult, renewalPlan, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return RenewalResult{}, renewalPlan{}, fmt.Errorf("policystore: renew: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit

	// A caller that gives up closes its connection, but a statement already
	// running would go on holding the family lock: bound it on the server.
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", (2*s.queryTimeout).Milliseconds())); err != nil {
		return RenewalResult{}, renewalPlan{}, fmt.Errorf("policystore: renew: %w", err)
	}

	var familyID, location int
	if err := tx.QueryRow(ctx, lockFamilySQL, req.CHFID).Scan(&familyID, &location); errors.Is(err, pgx.ErrNoRows) {
		return RenewalResult{}, renewalPlan{}, refuse(ReasonUnknownNumber, "no current insuree %s", req.CHFID)
	} else if err != nil {
		return RenewalResult{}, renewalPlan{}, fmt.Errorf("policystore: renew: lock family: %w", err)
	}
	officerE164, err := s.officerNow(ctx, tx, officer, familyID, location, req.Today)
	if err != nil {
		return RenewalResult{}, renewalPlan{}, err
	}

	// An earlier request wrote this renewal: answer as it did.
	if earlier, found, err := s.earlierForRequest(ctx, tx, req, familyID); err != nil || found {
		return earlier, renewalPlan{}, err
	}

	fam, err := s.loadFamily(ctx, tx, req.CHFID, req.ProductCode, true)
	if err != nil {
		return RenewalResult{}, renewalPlan{}, err
	}
	if fam.familyID != familyID {
		return RenewalResult{}, renewalPlan{}, fmt.Errorf("policystore: renew: %s moved from family %d to %d meanwhile", req.CHFID, familyID, fam.familyID)
	}
	plan, err := fam.plan(req.CHFID, req.ProductCode, req.Today)
	if err != nil {
		return RenewalResult{}, renewalPlan{}, err
	}
	q := plan.quote
	if err := checkAmount(req.Amount, q.Value, req.MaxOverpayment); err != nil {
		return RenewalResult{}, plan, err
	}

	if _, err := tx.Exec(ctx, lockReceiptSQL, q.ProductID, req.Receipt); err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: lock receipt: %w", err)
	}
	var used bool
	if err := tx.QueryRow(ctx, receiptSQL, req.Receipt, q.ProductID).Scan(&used); err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: check receipt: %w", err)
	}
	if used {
		return RenewalResult{}, plan, refuse(ReasonReceiptUsed, "receipt %q is on a current premium of %s", req.Receipt, q.ProductCode)
	}

	res := RenewalResult{
		PolicyUUID: uuid.NewString(), CHFID: req.CHFID, FamilyID: q.FamilyID, HeadName: q.HeadName,
		ProductCode: q.ProductCode, ProductName: q.ProductName, Start: q.Start, Expiry: q.Expiry,
		Value: q.Value, Amount: req.Amount, Receipt: req.Receipt, Status: PolicyIdle,
	}
	var effective *time.Time
	if req.Amount >= q.Value {
		res.Status = PolicyActive
		if fam.activation == 3 {
			res.Status = PolicyReady
		}
		e := q.Start // max(pay date, start): openimis.md §3.2, §3.7
		if req.Today.After(e) {
			e = req.Today
		}
		effective = &e
	}
	res.Active = res.Status == PolicyActive

	creationCol, creationVal := "", ""
	if s.cols.PolicyCreationDate { // Django policy 0009; not in the 1.4.2 dump
		creationCol, creationVal = `, "creationDate"`, ", $7"
	}
	err = tx.QueryRow(ctx, fmt.Sprintf(insertPolicySQL, creationCol, creationVal),
		res.PolicyUUID, q.FamilyID, q.ProductID, officer.ID, int16(res.Status), q.Value, req.Today, q.Start,
		effective, q.Expiry, int32(req.AuditUserID), req.Channel, req.SourceVersion).Scan(&res.PolicyID)
	if err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: insert policy: %w", err)
	}
	ids := make([]int32, len(plan.covered))
	for i, m := range plan.covered {
		ids[i] = int32(m.InsureeID)
	}
	if _, err := tx.Exec(ctx, insertInsureePoliciesSQL, ids, res.PolicyID, req.Today, q.Start, effective, q.Expiry, int32(req.AuditUserID)); err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: insert insuree policies: %w", err)
	}
	if _, err := tx.Exec(ctx, insertPremiumSQL, uuid.NewString(), res.PolicyID, req.Amount, req.Receipt, req.Today,
		int32(req.AuditUserID), req.Channel, req.SourceVersion); err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: insert premium: %w", err)
	}
	if _, err := tx.Exec(ctx, closeRemindersSQL, q.PreviousPolicyID); err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: close reminders: %w", err)
	}
	var key any
	if req.RequestKey != "" {
		key = req.RequestKey
	}
	if _, err := tx.Exec(ctx, insertLogSQL, res.PolicyID, res.PolicyUUID, q.PreviousPolicyID, q.FamilyID, q.ProductID,
		officer.ID, req.CHFID, req.Receipt, req.Amount, q.Value, q.Start, q.Expiry, int16(res.Status), req.Channel, key); err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: log: %w", err)
	}
	if err := s.enqueueConfirmations(ctx, tx, req, res, officerE164, plan.head.Phone); err != nil {
		return RenewalResult{}, plan, err
	}
	if err := tx.Commit(ctx); err != nil {
		return RenewalResult{}, plan, fmt.Errorf("policystore: renew: commit: %w", err)
	}
	return res, plan, nil
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

// officerNow re-reads the officer inside the transaction, the index being
// up to a refresh old, and refuses one who left or changed phone since
// (ErrNotOfficer), or whose area does not hold the family's village now
// (ErrOutsideArea). It returns the officer's phone in E.164.
func (s *Store) officerNow(ctx context.Context, tx pgx.Tx, officer Officer, familyID, location int, today time.Time) (string, error) {
	var (
		phone   string
		worksTo *time.Time
		covers  bool
	)
	err := tx.QueryRow(ctx, officerSQL, officer.ID, location).Scan(&phone, &worksTo, &covers)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", refuse(ReasonNotOfficer, "officer %s is no longer current", officer.Code)
	} else if err != nil {
		return "", fmt.Errorf("policystore: renew: read officer: %w", err)
	}
	e164, ok := NormalizePhone(phone, s.PhoneRegion())
	officer.WorksTo = derefTime(worksTo)
	if !ok || e164 != officer.E164 || !officer.Active(today) {
		return "", refuse(ReasonNotOfficer, "officer %s changed phone or left", officer.Code)
	}
	if !covers {
		return "", outsideArea(officer, familyID, location)
	}
	return e164, nil
}

// enqueueConfirmations queues the SMS to the officer (unless the renewal
// came by SMS: the reply to the officer's RENEW says it all) and, when the
// head has a phone on record that is not the officer's, to the head.
func (s *Store) enqueueConfirmations(ctx context.Context, tx pgx.Tx, req RenewalRequest, res RenewalResult, officerE164, headPhone string) error {
	render := func(to string) string {
		if req.Messages != nil {
			if body := req.Messages(res, to); body != "" {
				return body
			}
		}
		return DefaultRenewalMessage(res, to)
	}
	var msgs []OutboundSMS
	if req.Channel != ChannelSMS {
		msgs = append(msgs, OutboundSMS{
			Provider: req.SMSProvider, Recipient: officerE164, Body: render(RecipientOfficer),
			Purpose: "renewal.officer", DedupKey: "renewal:" + res.PolicyUUID + ":officer",
		})
	}
	if head, ok := NormalizePhone(headPhone, s.PhoneRegion()); ok && head != officerE164 {
		msgs = append(msgs, OutboundSMS{
			Provider: req.SMSProvider, Recipient: head, Body: render(RecipientHead),
			Purpose: "renewal.head", DedupKey: "renewal:" + res.PolicyUUID + ":head",
		})
	}
	for _, m := range msgs {
		if err := EnqueueSMS(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// earlierSQL reads a logged renewal with the names to show; %s is the
// filter.
const earlierSQL = `
SELECT r.policy_id, r.policy_uuid, r.chfid, r.family_id, r.receipt, r.amount, r.value, r.start_date,
       r.expiry_date, r.status, COALESCE(pr."ProductCode", ''), COALESCE(pr."ProductName", ''),
       COALESCE(h."OtherNames", ''), COALESCE(h."LastName", '')
FROM imis_gateway.renewal r
LEFT JOIN "tblProduct" pr ON pr."ProdID" = r.product_id
LEFT JOIN "tblFamilies" f ON f."FamilyID" = r.family_id AND f."ValidityTo" IS NULL
LEFT JOIN "tblInsuree" h ON h."InsureeID" = f."InsureeID"
WHERE %s
ORDER BY r.id LIMIT 1`

// The same receipt for the same family: the earlier renewal, if it was of
// the product asked for (by its code, or by the code of the policy it
// renewed, say an old product that converts).
var (
	earlierByKeySQL     = fmt.Sprintf(earlierSQL, `r.request_key = $1`)
	earlierByReceiptSQL = fmt.Sprintf(earlierSQL, `r.family_id = $1 AND r.receipt = $2 AND ($3 = ''
  OR upper(pr."ProductCode") = upper($3)
  OR EXISTS (SELECT 1 FROM "tblPolicy" pp JOIN "tblProduct" ppr ON ppr."ProdID" = pp."ProdID"
             WHERE pp."PolicyID" = r.previous_policy_id AND upper(ppr."ProductCode") = upper($3)))`)
	earlierByProductSQL = fmt.Sprintf(earlierSQL, `r.family_id = $1 AND r.product_id = $2 AND r.receipt = $3`)
)

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s *Store) earlierForRequest(ctx context.Context, q rowQuerier, req RenewalRequest, familyID int) (RenewalResult, bool, error) {
	if req.RequestKey != "" {
		if res, found, err := s.readEarlier(ctx, q, earlierByKeySQL, req.RequestKey); err != nil || found {
			return res, found, err
		}
	}
	return s.readEarlier(ctx, q, earlierByReceiptSQL, familyID, req.Receipt, req.ProductCode)
}

// earlierRenewal finds the renewal that beat this one to a unique constraint.
func (s *Store) earlierRenewal(ctx context.Context, q rowQuerier, key string, familyID, productID int, receipt string) (RenewalResult, bool, error) {
	if key != "" {
		if res, found, err := s.readEarlier(ctx, q, earlierByKeySQL, key); err != nil || found {
			return res, found, err
		}
	}
	return s.readEarlier(ctx, q, earlierByProductSQL, familyID, productID, receipt)
}

func (s *Store) readEarlier(ctx context.Context, q rowQuerier, sql string, args ...any) (RenewalResult, bool, error) {
	var (
		r           RenewalResult
		status      int16
		other, last string
	)
	err := q.QueryRow(ctx, sql, args...).Scan(&r.PolicyID, &r.PolicyUUID, &r.CHFID, &r.FamilyID, &r.Receipt,
		&r.Amount, &r.Value, &r.Start, &r.Expiry, &status, &r.ProductCode, &r.ProductName, &other, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		return RenewalResult{}, false, nil
	}
	if err != nil {
		return RenewalResult{}, false, fmt.Errorf("policystore: renew: read earlier renewal: %w", err)
	}
	r.Status = int(status)
	r.Active = r.Status == PolicyActive
	r.HeadName = personName(other, last)
	r.Repeated = true
	return r, true, nil
}

// DefaultRenewalMessage is the English confirmation SMS: plain GSM-7, at
// most 160 characters (one part), the head's name shortened to fit.
func DefaultRenewalMessage(res RenewalResult, to string) string {
	period := res.Start.Format("2 Jan 2006") + " to " + res.Expiry.Format("2 Jan 2006")
	paid := "Paid " + res.Amount.Format()
	var before, after string // around the head's name
	switch {
	case to == RecipientHead && res.Status == PolicyActive:
		before = "Your family's " + res.ProductCode + " cover is renewed: "
		after = ", " + period + ". " + paid + ", receipt " + res.Receipt + "."
	case to == RecipientHead && res.Status == PolicyReady:
		before = "Your family's " + res.ProductCode + " renewal is paid: "
		after = ", " + period + ". Cover starts once activated. Receipt " + res.Receipt + "."
	case to == RecipientHead:
		before = "Your family's " + res.ProductCode + " renewal is recorded: "
		after = ". " + paid + " of " + res.Value.Format() + "; cover " + period + " starts when paid in full."
	case res.Status == PolicyActive:
		before = "Renewed " + res.CHFID + " "
		after = ", " + res.ProductCode + ", " + period + ": ACTIVE. " + paid + ", receipt " + res.Receipt + "."
	case res.Status == PolicyReady:
		before = "Renewed " + res.CHFID + " "
		after = ", " + res.ProductCode + ", " + period + ": READY, awaiting activation. " + paid + ", receipt " + res.Receipt + "."
	default:
		before = "Renewed " + res.CHFID + " "
		after = ", " + res.ProductCode + ", " + period + ": IDLE until paid in full. " + paid + " of " + res.Value.Format() + ", receipt " + res.Receipt + "."
	}
	before, after = gsm7(before), gsm7(after)
	name := gsm7(strings.Join(strings.Fields(res.HeadName), " "))
	room := 160 - utf8.RuneCountInString(before) - utf8.RuneCountInString(after)
	if utf8.RuneCountInString(name) > room {
		name = strings.TrimSpace(truncateRunes(name, max(room, 0)))
	}
	return truncateRunes(before+name+after, 160)
}

// gsm7Basic is the GSM 03.38 basic character set without the escape, so
// that a message is one part of 160 characters; anything else becomes '?'.
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

func gsm7(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			return r
		case r == '’' || r == '‘' || r == '`':
			return '\''
		default:
			return '?'
		}
	}, s)
}
