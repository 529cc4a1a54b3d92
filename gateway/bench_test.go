package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/africastalking"
)

// BenchmarkParseStepRender is the CPU work of a navigation hop without any
// I/O: parse the AT form, step the menu, render the reply.
func BenchmarkParseStepRender(b *testing.B) {
	engine := menus.New(nil, menus.Options{})
	body := "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1"
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		hop, err := africastalking.ParseHop(r)
		if err != nil {
			b.Fatal(err)
		}
		inputs, err := hop.Inputs("", false)
		if err != nil {
			b.Fatal(err)
		}
		_, screen, err := engine.Next(ctx, menus.Caller{Phone: hop.Phone}, menus.State{Node: menus.NodeMain}, inputs[0])
		if err != nil {
			b.Fatal(err)
		}
		africastalking.Body(providers.Reply{Text: screen.Text, End: screen.End})
	}
}

// BenchmarkFullSession runs the three hops of a membership check through the
// whole server (router, middleware, Redis session store, PostgreSQL enquiry),
// without the network; ns/op is per session of three hops.
func BenchmarkFullSession(b *testing.B) {
	g := newGateway(b, harness{})
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			session := fmt.Sprintf("ATUid_bench_%d", n.Add(1))
			for _, text := range []string{"", "1", "1*101203401"} {
				if code := g.serveHop(session, text); code != http.StatusOK {
					b.Fatalf("status %d", code)
				}
			}
		}
	})
}
