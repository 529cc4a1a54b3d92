package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/gateway"
)

// TestSupportPage: off without a token, 401 with a wrong one, and with the
// right one a search shows what the phone showed, escaped.
func TestSupportPage(t *testing.T) {
	g := newSMSGateway(t)
	mustCON(t, g.hop("ATUid_support_1", headA, ""))
	mustCON(t, g.hop("ATUid_support_1", headA, "1"))
	mustEND(t, g.hop("ATUid_support_1", headA, "1*101203401"))
	g.sms("support-sms-1", headA, "CHECK <script>alert(1)</script>")
	g.sent(headA)

	admin := func(support gateway.SupportConfig) *httptest.Server {
		deps := g.deps
		deps.Registry = nil // a server of its own beside the test gateway's
		srv := httptest.NewServer(gateway.NewServer(deps, gateway.Config{Providers: allProviders(), Support: support}).Admin())
		t.Cleanup(srv.Close)
		return srv
	}
	on := admin(gateway.SupportConfig{Token: "let-me-in", Trace: g.store.Pool()})
	search := "/support?phone=" + url.QueryEscape("0712111222")
	for _, tc := range []struct {
		name     string
		srv      *httptest.Server
		path     string
		password string
		status   int
		contains []string
		absent   []string
	}{
		{name: "no token: off", srv: admin(gateway.SupportConfig{Trace: g.store.Pool()}), path: search, password: "let-me-in",
			status: http.StatusNotFound, contains: []string{"SUPPORT_TOKEN"}},
		{name: "no credential", srv: on, path: search, status: http.StatusUnauthorized},
		{name: "wrong token", srv: on, path: search, password: "guess", status: http.StatusUnauthorized, absent: []string{"Juma"}},
		{name: "the form", srv: on, path: "/support", password: "let-me-in", status: http.StatusOK,
			contains: []string{`id="search"`}, absent: []string{`id="timeline"`}},
		{name: "by phone", srv: on, path: search, password: "let-me-in", status: http.StatusOK,
			contains: []string{`data-session="ATUid_support_1"`, "Juma Hassan Mrisho", `class="input"`, "101203401",
				`class="item sms sms_in"`, "CHECK &lt;script&gt;alert(1)&lt;/script&gt;", `class="item sms sms_out"`},
			absent: []string{"<script>"}},
		{name: "two things at once", srv: on, path: search + "&session=x", password: "let-me-in", status: http.StatusBadRequest,
			contains: []string{`id="error"`}},
		{name: "bad since", srv: on, path: search + "&since=yesterday", password: "let-me-in", status: http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var body string
			deadline := time.Now().Add(10 * time.Second)
			for {
				req, _ := http.NewRequest(http.MethodGet, tc.srv.URL+tc.path, nil)
				if tc.password != "" {
					req.SetBasicAuth("support", tc.password)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				status, body = resp.StatusCode, string(b)
				missing := status != tc.status
				for _, s := range tc.contains {
					missing = missing || !strings.Contains(body, s)
				}
				if !missing || time.Now().After(deadline) { // the trace is written a moment after
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, s := range tc.contains {
				if !strings.Contains(body, s) {
					t.Errorf("no %q in %s", s, body)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(body, s) {
					t.Errorf("%q in %s", s, body)
				}
			}
		})
	}
	if resp, err := http.Get(g.URL + "/support"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("public listener /support: %v %v, want 404", resp.Status, err)
	}
}
