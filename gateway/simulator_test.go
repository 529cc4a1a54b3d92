package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/providers/registry"
)

// TestSimulatorRoutes: the page and its hop relay exist when the simulator
// is on; the language and SMS endpoints only in development, and there only
// with what they need (the menus, the SMS dependencies).
func TestSimulatorRoutes(t *testing.T) {
	enabled := map[string]ProviderConfig{}
	for _, name := range registry.Names(registry.USSD()) {
		enabled[name] = ProviderConfig{Token: "t0k3n"}
	}
	type route struct {
		method, path string
		status       int
	}
	for _, c := range []struct {
		name   string
		cfg    Config
		routes []route
		page   []string // in the page
		absent []string // not in the page
	}{
		{
			name: "development", cfg: Config{Simulator: true, SimulatorDev: true, Providers: enabled},
			routes: []route{
				{http.MethodGet, "/simulator", http.StatusOK},
				{http.MethodPost, "/simulator/hop", http.StatusUnsupportedMediaType},
				// Without the menus and the SMS dependencies (Deps{}).
				{http.MethodPost, "/simulator/language", http.StatusNotFound},
				{http.MethodPost, "/simulator/sms", http.StatusNotFound},
			},
			page:   []string{`<option value="africastalking" data-token="t0k3n">Africa&#39;s Talking</option>`, `value="beem" data-token="t0k3n"`},
			absent: []string{`id="lang"`, `id="sms"`},
		},
		{
			name: "on outside development", cfg: Config{Simulator: true, Providers: enabled},
			routes: []route{
				{http.MethodGet, "/simulator", http.StatusOK},
				{http.MethodPost, "/simulator/hop", http.StatusUnsupportedMediaType},
				{http.MethodGet, "/simulator/outbox?phone=%2B255712111222", http.StatusNotFound},
				{http.MethodGet, "/simulator/language?phone=%2B255712111222", http.StatusNotFound},
			},
			page:   []string{`<option value="hubtel" data-token="">Hubtel</option>`},
			absent: []string{"t0k3n", `id="lang"`, `id="sms"`},
		},
		{
			name: "only the enabled providers", cfg: Config{Simulator: true, Providers: map[string]ProviderConfig{"nalo": {Token: "n"}}},
			routes: []route{{http.MethodGet, "/simulator", http.StatusOK}},
			page:   []string{`value="nalo"`},
			absent: []string{`value="africastalking"`, `value="hubtel"`},
		},
		{
			name: "off", cfg: Config{Providers: enabled},
			routes: []route{
				{http.MethodGet, "/simulator", http.StatusNotFound},
				{http.MethodPost, "/simulator/hop", http.StatusNotFound},
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := NewServer(Deps{}, c.cfg)
			for _, r := range c.routes {
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, httptest.NewRequest(r.method, r.path, strings.NewReader("sessionId=1")))
				if w.Code != r.status {
					t.Errorf("%s %s: %d, want %d", r.method, r.path, w.Code, r.status)
				}
				if r.path != "/simulator" || w.Code != http.StatusOK {
					continue
				}
				for _, s := range c.page {
					if !strings.Contains(w.Body.String(), s) {
						t.Errorf("page lacks %s", s)
					}
				}
				for _, s := range c.absent {
					if strings.Contains(w.Body.String(), s) {
						t.Errorf("page has %s", s)
					}
				}
			}
		})
	}
}
