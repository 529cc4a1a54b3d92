package openimis_test

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// The products of the plan's family, as the demo has them: FAM01 sold,
// CHF00 no longer sold and converting to FAM01, IND01 per member with
// start cycles.
const (
	fam01ID = 1
	chf00ID = 2
	ind01ID = 3
	village = 42
)

func products() map[int]openimis.Product {
	sold := func(p openimis.Product) openimis.Product {
		p.Current, p.DateFrom, p.DateTo = true, d(2020, time.January, 1), d(2030, time.December, 31)
		return p
	}
	return map[int]openimis.Product{
		fam01ID: sold(openimis.Product{ID: fam01ID, Code: "FAM01", Name: "CHF Family Basic", Pricing: fam01,
			InsurancePeriod: 12, GraceRenewal: 1}),
		chf00ID: {ID: chf00ID, Code: "CHF00", Name: "CHF Old", Current: true, DateFrom: d(2015, time.January, 1),
			DateTo: d(2024, time.December, 31), ConversionID: fam01ID, Pricing: fam01, InsurancePeriod: 12},
		ind01ID: sold(openimis.Product{ID: ind01ID, Code: "IND01", Name: "CHF Individual", Pricing: ind01,
			InsurancePeriod: 12, GraceRenewal: 2, Cycles: [4]string{"01-01", "01-07"}}),
	}
}

// family is the demo's family F on 10 March 2025: a head, a spouse, an
// adult son, a child and a lodger related as "Others"; its FAM01 policy
// expires in nine days.
func family() openimis.Family {
	member := func(id int, chfid, other string, dob time.Time) openimis.FamilyMember {
		return openimis.FamilyMember{InsureeID: id, CHFID: chfid, OtherNames: other, LastName: "Mwakalinga", DOB: dob,
			ValidityFrom: d(2020, time.January, 1)}
	}
	head := member(100, "604120019", "Tumaini  Anyisile", d(1975, time.May, 5))
	head.IsHead, head.Phone = true, "0754 100 200"
	lodger := member(104, "604120051", "Tabitha", d(1998, time.March, 12))
	lodger.LastName, lodger.Relationship = "Sanga", openimis.RelationOthers
	return openimis.Family{ID: 6, HeadID: 100, Location: village,
		Members: []openimis.FamilyMember{head, member(101, "604120027", "Rehema", d(1979, time.September, 9)),
			member(102, "604120035", "Baraka", d(2005, time.January, 30)), member(103, "604120043", "Neema", d(2013, time.July, 21)),
			lodger},
		Policies: []openimis.FamilyPolicy{{ID: 61, ProductID: fam01ID, Status: openimis.PolicyActive, Stage: "N",
			Start: d(2024, time.March, 20), Expiry: d(2025, time.March, 19)}},
		Products: products(),
	}
}

var (
	eo001 = openimis.Officer{ID: 1, Code: "EO001", Area: []int{7, village, 99}}
	// quoteF is family F's renewal on today.
	quoteF = openimis.RenewalQuote{CHFID: "604120035", FamilyID: 6, HeadCHFID: "604120019",
		HeadName: "Tumaini Anyisile Mwakalinga", HeadPhone: "0754 100 200",
		ProductID: fam01ID, ProductCode: "FAM01", ProductName: "CHF Family Basic",
		PreviousPolicyID: 61, PreviousProductCode: "FAM01", PreviousExpiry: d(2025, time.March, 19),
		Start: d(2025, time.March, 20), Expiry: d(2026, time.March, 19), Value: openimis.Money(37000_00), Members: 5}
	everyoneF = []int{100, 101, 102, 103, 104}
)

// TestPlanRenewal: which policy is renewed, into which product, for what
// period and value and whom it covers, or why not; each case changes
// family F (or the officer, the number, the product code or the day).
func TestPlanRenewal(t *testing.T) {
	policy := func(id, product, status int, stage string, start, expiry time.Time) openimis.FamilyPolicy {
		return openimis.FamilyPolicy{ID: id, ProductID: product, Status: status, Stage: stage, Start: start, Expiry: expiry}
	}
	type input struct {
		family             openimis.Family
		officer            openimis.Officer
		chfid, productCode string
		today              time.Time
	}
	tests := []struct {
		name    string
		change  func(in *input)
		want    func(q *openimis.RenewalQuote) // from quoteF; nil when refused
		covered []int
		refusal *openimis.RefusalError
	}{
		{name: "renewed before expiry: continues the day after, no discount this late",
			change: func(*input) {}, want: func(*openimis.RenewalQuote) {}, covered: everyoneF},
		{name: "a month ahead: the renewal discount",
			change: func(in *input) { in.today = d(2025, time.February, 18) },
			want: func(q *openimis.RenewalQuote) {
				q.Value, q.Discounted = openimis.Money(33300_00), true // 37000 − 10 %
			}, covered: everyoneF},
		{name: "after a lapse: starts today",
			change: func(in *input) { in.today = d(2025, time.April, 30) },
			want: func(q *openimis.RenewalQuote) {
				q.Start, q.Expiry = d(2025, time.April, 30), d(2026, time.April, 29)
			}, covered: everyoneF},
		{name: "a product code in any case, with the stored code padded",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.Code = "FAM01 "
				in.family.Products[fam01ID] = p
				in.productCode = "fam01"
			},
			want: func(q *openimis.RenewalQuote) { q.ProductCode, q.PreviousProductCode = "FAM01 ", "FAM01 " }, covered: everyoneF},
		{name: "the old product converts: renewed into FAM01",
			change: func(in *input) { in.family.Policies[0].ProductID = chf00ID },
			want: func(q *openimis.RenewalQuote) {
				q.PreviousProductCode, q.Converted = "CHF00", true
			}, covered: everyoneF},
		{name: "asked by the old product's code: renewed into what it converts to",
			change: func(in *input) { in.family.Policies[0].ProductID, in.productCode = chf00ID, "CHF00" },
			want: func(q *openimis.RenewalQuote) {
				q.PreviousProductCode, q.Converted = "CHF00", true
			}, covered: everyoneF},
		{name: "the latest policy's product is renewed; the other product is offered",
			change: func(in *input) {
				in.family.Policies = append(in.family.Policies,
					policy(62, ind01ID, openimis.PolicyExpired, "N", d(2024, time.January, 1), d(2024, time.December, 31)))
			},
			want: func(q *openimis.RenewalQuote) { q.OtherProducts = []string{"IND01"} }, covered: everyoneF},
		{name: "the other product by its code: its cycles and its price per member",
			change: func(in *input) {
				in.family.Policies = append(in.family.Policies,
					policy(62, ind01ID, openimis.PolicyExpired, "N", d(2024, time.January, 1), d(2024, time.December, 31)))
				in.productCode = "IND01"
			},
			want: func(q *openimis.RenewalQuote) {
				q.ProductID, q.ProductCode, q.ProductName, q.PreviousProductCode = ind01ID, "IND01", "CHF Individual", "IND01"
				q.PreviousPolicyID, q.PreviousExpiry = 62, d(2024, time.December, 31)
				// Past the two months' grace of the 1 January cycle: the next.
				q.Start, q.Expiry = d(2025, time.July, 1), d(2026, time.June, 30)
				q.Value = openimis.Money((4*10000 + 5000) * 100) // four adults (the lodger among them), a child
				q.OtherProducts = []string{"FAM01"}
			}, covered: everyoneF},
		{name: "the dead and the inactive are neither priced nor covered; the head is still named",
			change: func(in *input) {
				in.family.Members[0].Status, in.family.Members[4].Status = "DE", "IN"
			},
			want: func(q *openimis.RenewalQuote) {
				q.Value, q.Members = openimis.Money(32000_00), 3 // 30000 + 2000: three members in the lump sum
			}, covered: []int{101, 102, 103}},
		{name: "no head row: the member marked head is named",
			change: func(in *input) { in.family.HeadID = 0 },
			want:   func(*openimis.RenewalQuote) {}, covered: everyoneF},
		{name: "more members than the product covers: the adults first, then the children, the lodger last",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.Pricing.MemberCount = 3
				in.family.Products[fam01ID] = p
			},
			want: func(q *openimis.RenewalQuote) {
				q.Value, q.Members = openimis.Money(32000_00), 3
			}, covered: []int{100, 101, 102}},
		{name: "an earlier expiry is not the previous policy",
			change: func(in *input) {
				in.family.Policies = append(in.family.Policies,
					policy(60, fam01ID, openimis.PolicyExpired, "N", d(2023, time.March, 20), d(2024, time.March, 19)))
			},
			want: func(*openimis.RenewalQuote) {}, covered: everyoneF},
		{name: "the same expiry twice: the later policy is the previous one",
			change: func(in *input) {
				in.family.Policies = append(in.family.Policies,
					policy(63, fam01ID, openimis.PolicyActive, "N", d(2024, time.March, 20), d(2025, time.March, 19)))
			},
			want: func(q *openimis.RenewalQuote) { q.PreviousPolicyID = 63 }, covered: everyoneF},

		{name: "outside the officer's area, before anything else",
			change:  func(in *input) { in.officer.Area, in.productCode = []int{7}, "NOPE" },
			refusal: openimis.ErrOutsideArea},
		{name: "a family without a village is in nobody's area",
			change:  func(in *input) { in.family.Location = 0 },
			refusal: openimis.ErrOutsideArea},
		{name: "unknown product code",
			change:  func(in *input) { in.productCode = "NOPE" },
			refusal: openimis.ErrUnknownProduct},
		{name: "a product code of a product no longer current",
			change: func(in *input) {
				p := in.family.Products[ind01ID]
				p.Current = false
				in.family.Products[ind01ID] = p
				in.productCode = "IND01"
			},
			refusal: openimis.ErrUnknownProduct},
		{name: "no policy at all",
			change:  func(in *input) { in.family.Policies = nil },
			refusal: openimis.ErrNoPreviousPolicy},
		{name: "no policy of the product asked for",
			change:  func(in *input) { in.productCode = "IND01" },
			refusal: openimis.ErrNoPreviousPolicy},
		{name: "an idle policy is no previous policy",
			change:  func(in *input) { in.family.Policies[0].Status = openimis.PolicyIdle },
			refusal: openimis.ErrNoPreviousPolicy},
		{name: "a policy not started yet is no previous policy",
			change:  func(in *input) { in.family.Policies[0].Start = d(2025, time.March, 11) },
			refusal: openimis.ErrNoPreviousPolicy},
		{name: "a policy without an expiry date is no previous policy",
			change:  func(in *input) { in.family.Policies[0].Expiry = time.Time{} },
			refusal: openimis.ErrNoPreviousPolicy},
		{name: "the product is no longer sold and converts to nothing",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.DateTo = d(2025, time.March, 9)
				in.family.Products[fam01ID] = p
			},
			refusal: openimis.ErrProductNotRenewable},
		{name: "the product asked for is not yet sold",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.DateFrom = d(2025, time.March, 11)
				in.family.Products[fam01ID] = p
				in.productCode = "FAM01"
			},
			refusal: openimis.ErrProductNotRenewable},
		{name: "a conversion loop ends",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.DateTo, p.ConversionID = d(2024, time.December, 31), chf00ID
				in.family.Products[fam01ID] = p
				in.family.Policies[0].ProductID = chf00ID
			},
			refusal: openimis.ErrProductNotRenewable},
		{name: "a start cycle that is no date",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.Cycles[0] = "31-02"
				in.family.Products[fam01ID] = p
			},
			refusal: openimis.ErrProductNotRenewable},
		{name: "an insurance period of no months",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.InsurancePeriod = 0
				in.family.Products[fam01ID] = p
			},
			refusal: openimis.ErrProductNotRenewable},
		{name: "a value beyond numeric(18,2)",
			change: func(in *input) {
				p := in.family.Products[fam01ID]
				p.Pricing.LumpSum = openimis.MaxMoney
				in.family.Products[fam01ID] = p
			},
			refusal: openimis.ErrProductNotRenewable},
		{name: "renewed already: a policy of the product starts after the previous one",
			change: func(in *input) {
				in.family.Policies = append(in.family.Policies,
					policy(64, fam01ID, openimis.PolicyActive, "R", d(2025, time.March, 20), d(2026, time.March, 19)))
			},
			refusal: openimis.ErrRenewalExists},
		{name: "renewed already into the product the old one converts to",
			change: func(in *input) {
				in.family.Policies[0].ProductID = chf00ID
				in.family.Policies = append(in.family.Policies,
					policy(64, fam01ID, openimis.PolicyIdle, "R", d(2025, time.March, 20), d(2026, time.March, 19)))
			},
			refusal: openimis.ErrRenewalExists},
		{name: "an idle renewal, even one starting earlier",
			change: func(in *input) {
				in.family.Policies = append(in.family.Policies,
					policy(64, fam01ID, openimis.PolicyIdle, "R", d(2025, time.March, 1), d(2026, time.February, 28)))
			},
			refusal: openimis.ErrRenewalExists},
		{name: "a ready renewal",
			change: func(in *input) {
				in.family.Policies = append(in.family.Policies,
					policy(64, fam01ID, openimis.PolicyReady, "R", d(2025, time.March, 1), d(2026, time.February, 28)))
			},
			refusal: openimis.ErrRenewalExists},
		{name: "nobody left to cover",
			change: func(in *input) {
				for i := range in.family.Members {
					in.family.Members[i].Status = "DE"
				}
			},
			refusal: openimis.ErrNoMembers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input{family: family(), officer: eo001, chfid: "604120035", today: today}
			tt.change(&in)
			before := fmt.Sprintf("%+v", in.family)
			plan, err := openimis.PlanRenewal(in.family, in.officer, in.chfid, in.productCode, in.today)
			if after := fmt.Sprintf("%+v", in.family); after != before {
				t.Errorf("the family changed:\n%s\n%s", before, after)
			}
			if tt.refusal != nil {
				var r *openimis.RefusalError
				if !errors.Is(err, tt.refusal) || !errors.As(err, &r) || r.Detail == "" {
					t.Fatalf("%+v, %v; want refusal %s with a detail", plan.Quote, err, tt.refusal.Reason)
				}
				return
			}
			want := quoteF
			tt.want(&want)
			if err != nil || !reflect.DeepEqual(plan.Quote, want) || !slices.Equal(plan.Covered, tt.covered) {
				t.Errorf("quote %+v, covered %v, %v\nwant  %+v, covered %v", plan.Quote, plan.Covered, err, want, tt.covered)
			}
		})
	}
}

// TestPlanRenewalUsesTheCalendarDate: the time of day and its zone do not
// move the period.
func TestPlanRenewalUsesTheCalendarDate(t *testing.T) {
	lateEvening := time.Date(2025, time.March, 10, 23, 30, 0, 0, time.FixedZone("EAT", 3*3600))
	plan, err := openimis.PlanRenewal(family(), eo001, "604120035", "", lateEvening)
	if err != nil || !reflect.DeepEqual(plan.Quote, quoteF) {
		t.Errorf("%+v, %v", plan.Quote, err)
	}
}

// TestPay: the status and effective date a payment gives, and the
// refusal of more than is due.
func TestPay(t *testing.T) {
	plan := openimis.RenewalPlan{Quote: quoteF} // 37000 due from 20 March 2025
	late := d(2025, time.March, 25)
	tests := []struct {
		name          string
		amount, over  openimis.Money
		activation    int
		day           time.Time
		want          openimis.Payment
		refusedNaming openimis.Money
	}{
		{"paid in full early: active from the start", openimis.Money(37000_00), 0, 2, today,
			openimis.Payment{Status: openimis.PolicyActive, Effective: quoteF.Start}, 0},
		{"paid in full after the start: active from the pay date", openimis.Money(37000_00), 0, 2, late,
			openimis.Payment{Status: openimis.PolicyActive, Effective: late}, 0},
		{"paid in full where the scheme activates: ready", openimis.Money(37000_00), 0, openimis.ActivationReady, today,
			openimis.Payment{Status: openimis.PolicyReady, Effective: quoteF.Start}, 0},
		{"paid in part: idle, no effective date", openimis.Money(20000_00), 0, 2, today,
			openimis.Payment{Status: openimis.PolicyIdle}, 0},
		{"paid in part where the scheme activates: idle", openimis.Money(37000_00) - 1, 0, openimis.ActivationReady, today,
			openimis.Payment{Status: openimis.PolicyIdle}, 0},
		{"a little more, accepted", openimis.Money(37500_00), openimis.Money(500_00), 2, today,
			openimis.Payment{Status: openimis.PolicyActive, Effective: quoteF.Start}, 0},
		{"a cent more than due", openimis.Money(37000_00) + 1, 0, 2, today, openimis.Payment{}, openimis.Money(37000_00)},
		{"a cent more than accepted", openimis.Money(37500_00) + 1, openimis.Money(500_00), 2, today, openimis.Payment{}, openimis.Money(37000_00)},
	}
	for _, tt := range tests {
		pay, err := plan.Pay(tt.amount, tt.over, tt.activation, tt.day)
		var r *openimis.RefusalError
		switch {
		case tt.refusedNaming != 0 && (!errors.Is(err, openimis.ErrAmountTooHigh) || !errors.As(err, &r) || r.Due != tt.refusedNaming):
			t.Errorf("%s: %+v, %v; want ErrAmountTooHigh naming %s", tt.name, pay, err, tt.refusedNaming)
		case tt.refusedNaming == 0 && (err != nil || pay != tt.want):
			t.Errorf("%s: %+v, %v; want %+v", tt.name, pay, err, tt.want)
		}
	}
}

// TestNormalize: what a request must hold to be written, and what is
// filled or cut.
func TestNormalize(t *testing.T) {
	good := func() openimis.RenewalRequest {
		return openimis.RenewalRequest{CHFID: " 604120019 ", ProductCode: " FAM01 ", Receipt: " QFC9M3NX5T ",
			Amount: openimis.Money(37000_00), Channel: " ussd ", Today: time.Date(2025, time.March, 10, 15, 4, 5, 0, time.UTC),
			RequestKey: " ussd:s1 ", SourceVersion: " 0.4.0-rc.1+g1234567890 "}
	}
	r := good()
	if err := r.Normalize(); err != nil {
		t.Fatal(err)
	}
	want := openimis.RenewalRequest{CHFID: "604120019", ProductCode: "FAM01", Receipt: "QFC9M3NX5T",
		Amount: openimis.Money(37000_00), Channel: openimis.ChannelUSSD, Today: today, RequestKey: "ussd:s1",
		SourceVersion: "0.4.0-rc.1+g123", AuditUserID: openimis.DefaultAuditUserID}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("normalized\n%+v\nwant\n%+v", r, want)
	}
	r = good()
	r.AuditUserID = 7
	if err := r.Normalize(); err != nil || r.AuditUserID != 7 {
		t.Errorf("audit user %d, %v", r.AuditUserID, err)
	}

	invalid := map[string]func(r *openimis.RenewalRequest){
		"unknown channel":      func(r *openimis.RenewalRequest) { r.Channel = "WEB" },
		"no date":              func(r *openimis.RenewalRequest) { r.Today = time.Time{} },
		"no receipt":           func(r *openimis.RenewalRequest) { r.Receipt = "  " },
		"receipt too long":     func(r *openimis.RenewalRequest) { r.Receipt = strings.Repeat("R", 51) },
		"receipt with a NUL":   func(r *openimis.RenewalRequest) { r.Receipt = "B\x001" },
		"receipt with a tab":   func(r *openimis.RenewalRequest) { r.Receipt = "B\t1" },
		"receipt not UTF-8":    func(r *openimis.RenewalRequest) { r.Receipt = "\xff" },
		"amount 0":             func(r *openimis.RenewalRequest) { r.Amount = 0 },
		"negative amount":      func(r *openimis.RenewalRequest) { r.Amount = -100 },
		"amount too large":     func(r *openimis.RenewalRequest) { r.Amount = openimis.MaxMoney + 1 },
		"negative overpayment": func(r *openimis.RenewalRequest) { r.MaxOverpayment = -1 },
		"overpayment too large": func(r *openimis.RenewalRequest) {
			r.MaxOverpayment = openimis.MaxMoney + 1
		},
		"product code with a DEL": func(r *openimis.RenewalRequest) { r.ProductCode = "FAM\x7f" },
		"request key too long":    func(r *openimis.RenewalRequest) { r.RequestKey = strings.Repeat("k", 201) },
	}
	for _, name := range slices.Sorted(maps.Keys(invalid)) {
		r := good()
		invalid[name](&r)
		if err := r.Normalize(); !errors.Is(err, openimis.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	r = good()
	r.Receipt = strings.Repeat("Ř", 50) // 50 characters, 100 bytes: the column counts characters
	if err := r.Normalize(); err != nil {
		t.Errorf("50-character receipt: %v", err)
	}
}
