package menus

import (
	"context"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// BenchmarkNextMenu is one navigation step: main menu → "Check membership".
func BenchmarkNextMenu(b *testing.B) {
	e := newTestEngine(staticSource{})
	ctx := context.Background()
	st := State{Node: NodeMain}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Next(ctx, stranger, st, "1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNextAnswer renders a membership answer from a fake store: the
// caller's and two stored phone numbers parsed, four policies filtered,
// sorted and fitted.
func BenchmarkNextAnswer(b *testing.B) {
	for _, bc := range []struct {
		name   string
		caller Caller
	}{{"owner", insuree}, {"head", head}, {"stranger", stranger}, {"no caller phone", Caller{}}, {"ne", Caller{Lang: "ne"}}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newTestEngine(staticSource(amina("101000006", basicExpired, basicCovered, oldExpired, extraCovered)))
			ctx := context.Background()
			st := State{Node: NodeMembershipAsk, Back: []string{NodeMain}}
			b.ReportAllocs()
			for b.Loop() {
				if _, scr, err := e.Next(ctx, bc.caller, st, "101000006"); err != nil || !scr.End {
					b.Fatal(scr, err)
				}
			}
		})
	}
}

// BenchmarkClaimsPage lays out the last page of the demo's five claims,
// which lays out every page before it.
func BenchmarkClaimsPage(b *testing.B) {
	for _, lang := range languages {
		b.Run(lang, func(b *testing.B) {
			e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
			ctx := context.Background()
			st := State{Node: NodeClaimsList, Back: []string{NodeMain, NodeClaimsAsk}, Lang: lang, ID: "101203401", Page: 2}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.Next(ctx, stranger, st, "98"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSMS answers CLAIMS in one SMS part.
func BenchmarkSMS(b *testing.B) {
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r, err := e.SMS(ctx, SMSRequest{From: "+255712345678", Text: "CLAIMS 101203401"}); err != nil || r.Parts != 1 {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkParsePhone measures the phone normalisation every answer pays up
// to three times (cached after the first).
func BenchmarkParsePhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := phoneKey("0712 345 678", "TZ"); !ok {
			b.Fatal("unparsed")
		}
	}
}

// staticSource answers every number with the same coverage, recording
// nothing, so a benchmark measures the engine alone.
type staticSource openimis.Coverage

func (s staticSource) Coverage(context.Context, string, time.Time) (openimis.Coverage, error) {
	return openimis.Coverage(s), nil
}
