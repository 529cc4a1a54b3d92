package gateway_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/internal/browsertest"
)

// The screenshot README.md shows ("Support: tracing a caller"), rewritten
// with UPDATE_SCREENSHOTS=1.
const screenshotSupport = "../docs/img/support.png"

// TestSupportPageInChromium: a support person, given only a phone number as
// the caller says it, finds the caller's session and sees exactly what the
// phone showed, hop by hop, with the SMS around it.
func TestSupportPageInChromium(t *testing.T) {
	g := newSMSGateway(t)
	const session = "ATUid_support_browser"
	var shown []string
	for _, text := range []string{"", "1", "1*101203401"} {
		screen := g.hop(session, headA, text).body
		shown = append(shown, screen[len("CON "):])
	}
	g.sms("support-browser-sms", headA, "CHECK 101203401")
	g.sent(headA)
	waitForTrace(t, g, gateway.TraceQuery{Phone: headA}, func(tl gateway.Timeline) bool {
		s := sessionsOf(tl)
		return len(s) == 1 && len(s[0].Hops) == 3 && len(kindsOf(tl)) >= 3
	})

	deps := g.deps
	deps.Registry = nil // a server of its own beside the test gateway's
	admin := httptest.NewServer(gateway.NewServer(deps, gateway.Config{Providers: allProviders(),
		Support: gateway.SupportConfig{Token: "let-me-in", Trace: g.store.Pool()}}).Admin())
	t.Cleanup(admin.Close)
	page, _ := url.Parse(admin.URL + "/support")
	page.User = url.UserPassword("support", "let-me-in")

	tab := browsertest.New(t)
	if err := chromedp.Do(tab,
		chromedp.Navigate(page.String()),
		chromedp.SendKeys(chromedp.CSS(`#search input[name="phone"]`), "0712 111 222"),
		chromedp.Click(chromedp.ID("search-button")),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	); err != nil {
		t.Fatal(err)
	}
	screens, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.session[data-session="`+session+`"] .screen')].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(screens) != len(shown) {
		t.Fatalf("the page shows %d screens of the session, the phone showed %d: %q", len(screens), len(shown), screens)
	}
	for i := range shown {
		if screens[i] != shown[i] {
			t.Errorf("hop %d: the page shows\n%s\nthe phone showed\n%s", i+1, screens[i], shown[i])
		}
	}
	sms, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.sms')].map(e => e.className + ": " + e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(sms, "\n")
	if !strings.Contains(joined, "sms_in") || !strings.Contains(joined, "CHECK 101203401") || !strings.Contains(joined, "sms_out") {
		t.Errorf("the SMS beside the session: %q", sms)
	}
	browsertest.Screenshot(t, tab, "body", screenshotSupport)
}

// waitForTrace waits until a search of the trace finds what want wants: the
// trace is written a moment after the hops.
func waitForTrace(t *testing.T, g *smsGateway, q gateway.TraceQuery, want func(gateway.Timeline) bool) {
	t.Helper()
	q.Since = time.Now().Add(-time.Hour)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		tl, err := gateway.SearchTrace(context.Background(), g.store.Pool(), q)
		if err != nil {
			t.Fatal(err)
		}
		if want(tl) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%+v: timeline not as wanted: %s", q, describe(tl))
		}
	}
}
