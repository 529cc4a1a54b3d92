package menus

import (
	"context"
	"sync"
	"time"

	"github.com/openimis/imis-gateway/policystore"
)

// fakeSource is a CoverageSource over a map, recording its calls.
type fakeSource struct {
	mu      sync.Mutex
	byCHFID map[string]policystore.Coverage
	err     error // returned for every call when set
	calls   []string
	today   []time.Time
}

func (f *fakeSource) Coverage(_ context.Context, chfid string, today time.Time) (policystore.Coverage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, chfid)
	f.today = append(f.today, today)
	if f.err != nil {
		return policystore.Coverage{}, f.err
	}
	c, ok := f.byCHFID[chfid]
	if !ok {
		return policystore.Coverage{}, policystore.ErrInsureeNotFound
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
	basicCovered = policystore.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 2,
		Status: policystore.Covered, EffectiveDate: date(2026, 1, 1), ExpiryDate: date(2026, 12, 31)}
	extraCovered = policystore.PolicyCoverage{ProductCode: "EXTRA", ProductName: "Extra Care", PolicyStatus: 2,
		Status: policystore.Covered, EffectiveDate: date(2025, 9, 1), ExpiryDate: date(2026, 8, 31)}
	basicIdle = policystore.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 1,
		Status: policystore.NotYetActive}
	basicFuture = policystore.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 2,
		Status: policystore.NotYetActive, EffectiveDate: date(2026, 7, 1), ExpiryDate: date(2027, 6, 30)}
	basicExpired = policystore.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 8,
		Status: policystore.Expired, EffectiveDate: date(2025, 1, 1), ExpiryDate: date(2025, 12, 31)}
	oldExpired = policystore.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 8,
		Status: policystore.Expired, EffectiveDate: date(2024, 1, 1), ExpiryDate: date(2024, 12, 31)}
	basicSuspended = policystore.PolicyCoverage{ProductCode: "BASIC", ProductName: "Basic Cover", PolicyStatus: 4,
		Status: policystore.Suspended, EffectiveDate: date(2026, 1, 1), ExpiryDate: date(2026, 12, 31)}
	longNamed = policystore.PolicyCoverage{ProductCode: "CHF-TZ", ProductName: "Community Health Fund Tanzania Mainland",
		PolicyStatus: 2, Status: policystore.Covered, EffectiveDate: date(2026, 2, 1), ExpiryDate: date(2027, 1, 31)}
)

// amina is the test insuree; each test number gives her other policies.
func amina(chfid string, policies ...policystore.PolicyCoverage) policystore.Coverage {
	return policystore.Coverage{CHFID: chfid, LastName: "Juma", OtherNames: "Amina", Phone: "0712345678",
		HeadPhone: "+255 754 000 111", Policies: policies}
}

func newFake() *fakeSource {
	return &fakeSource{byCHFID: map[string]policystore.Coverage{
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
