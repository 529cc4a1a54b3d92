package menus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// fakeSource is a CoverageSource over a map, recording its calls.
type fakeSource struct {
	mu      sync.Mutex
	byCHFID map[string]openimis.Coverage
	err     error // returned for every call when set
	calls   []string
	today   []time.Time
}

func (f *fakeSource) Coverage(_ context.Context, chfid string, today time.Time) (openimis.Coverage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, chfid)
	f.today = append(f.today, today)
	if f.err != nil {
		return openimis.Coverage{}, f.err
	}
	c, ok := f.byCHFID[chfid]
	if !ok {
		return openimis.Coverage{}, openimis.ErrInsureeNotFound
	}
	return c, nil
}

func (f *fakeSource) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// The scheme is in East Africa Time; "now" is 01:30 on 15 June 2026 there,
// still 14 June in UTC.
var (
	eat      = time.FixedZone("EAT", 3*60*60)
	testNow  = time.Date(2026, 6, 14, 22, 30, 0, 0, time.UTC)
	testDay  = date(2026, 6, 15)
	stranger = Caller{Phone: "+255799999999"}
	insuree  = Caller{Phone: "+255712345678"} // Amina Juma's own phone
	head     = Caller{Phone: "+255754000111"} // her family head's phone
)

var (
	basicCovered = openimis.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 2,
		Status: openimis.Covered, EffectiveDate: date(2026, 1, 1), ExpiryDate: date(2026, 12, 31)}
	extraCovered = openimis.PolicyCoverage{ProductCode: "EXTRA", ProductName: "Extra Care", PolicyStatus: 2,
		Status: openimis.Covered, EffectiveDate: date(2025, 9, 1), ExpiryDate: date(2026, 8, 31)}
	basicIdle = openimis.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 1,
		Status: openimis.NotYetActive}
	basicFuture = openimis.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 2,
		Status: openimis.NotYetActive, EffectiveDate: date(2026, 7, 1), ExpiryDate: date(2027, 6, 30)}
	basicExpired = openimis.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 8,
		Status: openimis.Expired, EffectiveDate: date(2025, 1, 1), ExpiryDate: date(2025, 12, 31)}
	oldExpired = openimis.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 8,
		Status: openimis.Expired, EffectiveDate: date(2024, 1, 1), ExpiryDate: date(2024, 12, 31)}
	basicSuspended = openimis.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 4,
		Status: openimis.Suspended, EffectiveDate: date(2026, 1, 1), ExpiryDate: date(2026, 12, 31)}
	longNamed = openimis.PolicyCoverage{ProductCode: "CHF-TZ", ProductName: "Community Health Fund Tanzania Mainland",
		PolicyStatus: 2, Status: openimis.Covered, EffectiveDate: date(2026, 2, 1), ExpiryDate: date(2027, 1, 31)}
)

// amina is the test insuree; each test number gives her other policies.
func amina(chfid string, policies ...openimis.PolicyCoverage) openimis.Coverage {
	return openimis.Coverage{CHFID: chfid, LastName: "Juma", OtherNames: "Amina", Holder: aminasFamily, Policies: policies}
}

// aminasFamily: Amina's own phone, her head's, and her son's (a member with
// a phone of his own); a village of officer directory's area.
var aminasFamily = openimis.Holder{Phone: "0712345678", HeadPhone: "+255 754 000 111",
	FamilyPhones: []string{"0712345678", "+255 754 000 111", "0765 111 222"}, Location: 42}

func newFake() *fakeSource {
	return &fakeSource{byCHFID: map[string]openimis.Coverage{
		"101000001": amina("101000001", basicCovered),
		"101000002": amina("101000002", basicIdle),
		"101000003": amina("101000003", basicFuture),
		"101000004": amina("101000004", basicExpired),
		"101000005": amina("101000005", basicSuspended),
		"101000006": amina("101000006", basicExpired, basicCovered, oldExpired, extraCovered),
		"101000007": amina("101000007"),
		"101000008": amina("101000008", oldExpired, basicSuspended, basicIdle, basicExpired),
		"101000009": amina("101000009", longNamed),
		"12345":     amina("12345", basicCovered),
		"AB12cd34":  amina("AB12cd34", basicCovered),
	}}
}

func newTestEngine(src CoverageSource) *Engine {
	return New(src, Options{Now: func() time.Time { return testNow }, Location: eat})
}

// fakeClaims is a ClaimsSource over a map, recording its calls.
type fakeClaims struct {
	mu      sync.Mutex
	byCHFID map[string][]openimis.Claim
	err     error
	calls   []string
}

// Every number's claims are Amina's family's.
func (f *fakeClaims) Claims(_ context.Context, chfid string, limit int) (openimis.ClaimList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, chfid)
	if f.err != nil {
		return openimis.ClaimList{}, f.err
	}
	c, ok := f.byCHFID[chfid]
	if !ok {
		return openimis.ClaimList{}, openimis.ErrInsureeNotFound
	}
	return openimis.ClaimList{Holder: aminasFamily, Claims: c[:min(limit, len(c))]}, nil
}

func (f *fakeClaims) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// fakeLanguages is a LanguageStore over a map.
type fakeLanguages struct {
	mu     sync.Mutex
	byKey  map[string]string
	err    error
	writes int
}

func (f *fakeLanguages) Language(_ context.Context, phone string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", false, f.err
	}
	l, ok := f.byKey[phone]
	return l, ok, nil
}

func (f *fakeLanguages) SetLanguage(_ context.Context, phone, lang string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.byKey == nil {
		f.byKey = map[string]string{}
	}
	f.byKey[phone] = lang
	f.writes++
	return nil
}

func money(units int64) openimis.Amount {
	return openimis.Amount{Cents: units * 100, Valid: true}
}

// The demo's claims (policystore/demo): every status, newest first.
var (
	claimEntered = openimis.Claim{Code: "MKH00342", FacilityCode: "MKL001", FacilityName: "Makole Health Centre",
		DateClaimed: date(2026, 6, 11), Status: openimis.ClaimEntered, Claimed: money(15000)}
	claimChecked = openimis.Claim{Code: "MKH00318", FacilityCode: "MKL001", FacilityName: "Makole Health Centre",
		DateClaimed: date(2026, 5, 28), Status: openimis.ClaimChecked, Claimed: money(28500), Approved: money(28500)}
	claimRejected = openimis.Claim{Code: "MKH00290", FacilityCode: "MKL001", FacilityName: "Makole Health Centre",
		DateClaimed: date(2026, 5, 8), Status: openimis.ClaimRejected, Claimed: money(15000), Approved: money(0)}
	claimProcessed = openimis.Claim{Code: "DRH01022", FacilityCode: "DDMRRH", FacilityName: "Dodoma Regional Referral Hospital",
		DateClaimed: date(2026, 4, 17), Status: openimis.ClaimProcessed, Claimed: money(45000), Approved: money(42000)}
	claimValuated = openimis.Claim{Code: "DRH00871", FacilityCode: "DDMRRH", FacilityName: "Dodoma Regional Referral Hospital",
		DateClaimed: date(2026, 2, 20), Status: openimis.ClaimValuated, Claimed: money(185000), Approved: money(172500),
		Valuated: money(172500)}
	gaspar = "Hospitali Teule ya Rufaa ya Mtakatifu Gaspar Del Bufalo na Chuo cha Wauguzi na Wakunga, Kisesa, Magu"
)

func newFakeClaims() *fakeClaims {
	return &fakeClaims{byCHFID: map[string][]openimis.Claim{
		"101203401": {claimEntered, claimChecked, claimRejected, claimProcessed, claimValuated},
		"120507726": {{Code: "BSW00131", FacilityCode: "BSW001", FacilityName: "Buswelu Dispensary",
			DateClaimed: date(2026, 6, 12), Status: openimis.ClaimEntered, Claimed: money(8500)}},
		"310482231": {{Code: "BUF00412", FacilityCode: "GDB001", FacilityName: gaspar,
			DateClaimed: date(2026, 5, 28), Status: openimis.ClaimRejected, Claimed: money(22000), Approved: money(0)}},
		"101203402": nil,
	}}
}

// newFullEngine has every feature: claims and languages.
func newFullEngine(src CoverageSource, claims ClaimsSource, langs LanguageStore, opt Options) *Engine {
	opt.Now = func() time.Time { return testNow }
	opt.Location = eat
	opt.Claims, opt.Languages = claims, langs
	return New(src, opt)
}

// fakeOfficers is an OfficerDirectory over a set of E.164 numbers.
type fakeOfficers struct {
	mu     sync.Mutex
	phones map[string]bool
	err    error
	today  []time.Time
}

func (f *fakeOfficers) OfficerByPhone(_ context.Context, phone string, today time.Time) (openimis.Officer, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.today = append(f.today, today)
	if f.err != nil {
		return openimis.Officer{}, false, f.err
	}
	key, ok := phoneKey(phone, "TZ")
	if !ok || !f.phones[key] {
		return openimis.Officer{}, false, nil
	}
	return openimis.Officer{ID: 1, Code: "EO003", Name: "Rose Upendo Komba", Phone: phone, E164: key,
		Area: []int{aminasFamily.Location}}, true, nil
}

func (f *fakeOfficers) set(phone string, officer bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.phones[phone] = officer
}

// sentSMS is a confirmation SMS a fakeRenewals rendered.
type sentSMS struct{ to, text string }

// fakeRenewals is a RenewalService over quotes by insurance number, with
// policystore's idempotency: the same request key, or the same receipt for
// the same family, repeats the earlier result.
type fakeRenewals struct {
	mu        sync.Mutex
	officers  *fakeOfficers
	quotes    map[string]openimis.RenewalQuote
	refuse    map[string]error // by insurance number, for quotes and renewals
	refuseNow error            // Renew only: refused at the write (receipt used, officer left, ...)
	err       error            // an infrastructure failure, of both calls
	ready     bool             // "ActivationOption" 3: paid in full is Ready

	quoteCalls    []string
	quoteOfficers []string // the code of the officer each quote was asked for
	requests      []openimis.RenewalRequest
	byKey         map[string]openimis.RenewalResult
	byReceipt     map[string]openimis.RenewalResult
	written       []openimis.RenewalResult
	sent          []sentSMS
}

func (f *fakeRenewals) RenewalQuote(_ context.Context, officer openimis.Officer, chfid, productCode string, _ time.Time) (openimis.RenewalQuote, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quoteCalls = append(f.quoteCalls, chfid+"/"+productCode)
	f.quoteOfficers = append(f.quoteOfficers, officer.Code)
	if f.err != nil {
		return openimis.RenewalQuote{}, f.err
	}
	if officer.Code == "" { // no officer, no area
		return openimis.RenewalQuote{}, openimis.ErrOutsideArea
	}
	if err := f.refuse[chfid]; err != nil {
		return openimis.RenewalQuote{}, fmt.Errorf("quote: %w", err)
	}
	q, ok := f.quotes[chfid]
	if !ok {
		return openimis.RenewalQuote{}, &openimis.RefusalError{Reason: openimis.ReasonUnknownNumber, Detail: "no such number"}
	}
	if productCode != "" && !strings.EqualFold(productCode, q.ProductCode) && !strings.EqualFold(productCode, q.PreviousProductCode) {
		return openimis.RenewalQuote{}, openimis.ErrUnknownProduct
	}
	q.CHFID = chfid
	return q, nil
}

func (f *fakeRenewals) Renew(ctx context.Context, req openimis.RenewalRequest) (openimis.RenewalResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if f.err != nil {
		return openimis.RenewalResult{}, f.err
	}
	if _, ok, _ := f.officers.OfficerByPhone(ctx, req.OfficerPhone, req.Today); !ok {
		return openimis.RenewalResult{}, openimis.ErrNotOfficer
	}
	if err := f.refuse[req.CHFID]; err != nil {
		return openimis.RenewalResult{}, err
	}
	if f.refuseNow != nil {
		return openimis.RenewalResult{}, f.refuseNow
	}
	q, ok := f.quotes[req.CHFID]
	if !ok {
		return openimis.RenewalResult{}, openimis.ErrUnknownNumber
	}
	if req.ProductCode != "" && !strings.EqualFold(req.ProductCode, q.ProductCode) && !strings.EqualFold(req.ProductCode, q.PreviousProductCode) {
		return openimis.RenewalResult{}, openimis.ErrUnknownProduct
	}
	if r, ok := f.byKey[req.RequestKey]; ok && req.RequestKey != "" {
		r.Repeated = true
		return r, nil
	}
	if r, ok := f.byReceipt[req.Receipt]; ok {
		if r.FamilyID != q.FamilyID {
			return openimis.RenewalResult{}, openimis.ErrReceiptUsed
		}
		r.Repeated = true
		return r, nil
	}
	if req.Amount > q.Value+req.MaxOverpayment {
		return openimis.RenewalResult{}, &openimis.RefusalError{Reason: openimis.ReasonAmountTooHigh, Due: q.Value}
	}
	res := openimis.RenewalResult{PolicyID: 100 + len(f.written), CHFID: req.CHFID, FamilyID: q.FamilyID,
		HeadName: q.HeadName, ProductCode: q.ProductCode, ProductName: q.ProductName, Start: q.Start, Expiry: q.Expiry,
		Value: q.Value, Amount: req.Amount, Receipt: req.Receipt, Status: openimis.PolicyIdle}
	if req.Amount >= q.Value {
		res.Status = openimis.PolicyActive
		if f.ready {
			res.Status = openimis.PolicyReady
		}
	}
	res.Active = res.Status == openimis.PolicyActive
	if f.byKey == nil {
		f.byKey, f.byReceipt = map[string]openimis.RenewalResult{}, map[string]openimis.RenewalResult{}
	}
	if req.RequestKey != "" {
		f.byKey[req.RequestKey] = res
	}
	f.byReceipt[req.Receipt] = res
	f.written = append(f.written, res)
	recipients := []string{openimis.RecipientOfficer}
	if q.HeadPhone != "" {
		recipients = append(recipients, openimis.RecipientHead)
	}
	if req.Messages == nil {
		return openimis.RenewalResult{}, errors.New("no Messages: the store words no SMS")
	}
	for _, to := range recipients {
		text := req.Messages(res, to)
		if text == "" {
			return openimis.RenewalResult{}, fmt.Errorf("no text for the %s", to)
		}
		f.sent = append(f.sent, sentSMS{to, text})
	}
	return res, nil
}

func (f *fakeRenewals) writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.written)
}

// The renewal's test families, after the demo's (policystore/demo): today
// is 15 June 2026.
var (
	quoteDue = openimis.RenewalQuote{FamilyID: 6, HeadCHFID: "604120019", HeadName: "Tumaini Anyisile Mwakalinga",
		HeadPhone: "0754 100 200", ProductID: 1, ProductCode: "FAM01", ProductName: "CHF Family Basic",
		PreviousPolicyID: 61, PreviousProductCode: "FAM01", PreviousExpiry: date(2026, 6, 24),
		Start: date(2026, 6, 25), Expiry: date(2027, 6, 24), Value: openimis.Money(37000_00), Members: 5}
	quoteExpired = openimis.RenewalQuote{FamilyID: 2, HeadCHFID: "20461301", HeadName: "Emmanuel Joseph Kimaro",
		HeadPhone: "+255 713 111 333", ProductID: 1, ProductCode: "FAM01", ProductName: "CHF Family Basic",
		PreviousPolicyID: 21, PreviousProductCode: "FAM01", PreviousExpiry: date(2026, 6, 5),
		Start: date(2026, 6, 15), Expiry: date(2027, 6, 14), Value: openimis.Money(32000_00), Members: 4}
	quoteConverted = openimis.RenewalQuote{FamilyID: 3, HeadCHFID: "310482215", HeadName: "Paulo Masanja Magesa",
		ProductID: 1, ProductCode: "FAM01", ProductName: "CHF Family Basic", Converted: true,
		PreviousPolicyID: 31, PreviousProductCode: "CHF00", PreviousExpiry: date(2025, 11, 10),
		Start: date(2026, 6, 15), Expiry: date(2027, 6, 14), Value: openimis.Money(32000_00), Members: 3}
	officer = Caller{Phone: "+255767890123", Session: "africastalking:ATUid_7c1f", Provider: "africastalking"}
)

func newFakeRenewals() (*fakeOfficers, *fakeRenewals) {
	officers := &fakeOfficers{phones: map[string]bool{"+255767890123": true, "+255754321098": true}}
	return officers, &fakeRenewals{officers: officers, quotes: map[string]openimis.RenewalQuote{
		"604120019": quoteDue, "604120035": quoteDue, "20461301": quoteExpired, "310482215": quoteConverted,
	}, refuse: map[string]error{
		"907712214": openimis.ErrNoPreviousPolicy,
		"604120027": openimis.ErrRenewalExists,
		"503910017": openimis.ErrProductNotRenewable,
		"120507768": openimis.ErrNoMembers,
		"402771106": openimis.ErrInvalidRequest,
		"48214":     openimis.ErrOutsideArea,
		"48213":     &openimis.RefusalError{Reason: "reason_of_a_later_release"},
	}}
}

// newRenewEngine has every feature, renewal included.
func newRenewEngine(opt Options) (*Engine, *fakeOfficers, *fakeRenewals) {
	officers, renewals := newFakeRenewals()
	opt.Officers, opt.Renewals = officers, renewals
	if opt.Version == "" {
		opt.Version = "0.4.0-test"
	}
	return newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, opt), officers, renewals
}
