package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/providers/simphone"
)

// TestInvalidUTF8InputGetsAScreen: bytes that are not UTF-8 in the user's
// input (a handset or network in another encoding) are answered on every wire
// as a wrong input rather than refused, which would end the caller's session
// with the aggregator's error; the session goes on, Africa's Talking's
// transcript included, whose later hops repeat the same bytes.
func TestInvalidUTF8InputGetsAScreen(t *testing.T) {
	g := newGateway(t, harness{})
	ctx := context.Background()
	for _, provider := range simphone.Providers {
		t.Run(provider, func(t *testing.T) {
			p, must := phone(t, g, provider), screenOf(t)
			must(p.Dial(ctx, ""))
			if s := must(p.Send(ctx, "\xff")); s.End || !strings.Contains(s.Text, "Invalid choice.") || !strings.Contains(s.Text, "1. Check membership") {
				t.Fatalf("\\xff on the main menu: %+v", s)
			}
			if s := must(p.Send(ctx, "1")); s.End || !strings.Contains(s.Text, "insurance number") {
				t.Fatalf("1 after it: %+v", s)
			}
			if s := must(p.Send(ctx, "10120\xc3\x283401")); s.End || !strings.Contains(s.Text, "letters or digits") {
				t.Fatalf("an insurance number with a broken byte: %+v", s)
			}
			if s := must(p.Send(ctx, "101203401")); !s.End || !strings.Contains(s.Text, "covered until") {
				t.Fatalf("the session did not go on: %+v", s)
			}
		})
	}
}
