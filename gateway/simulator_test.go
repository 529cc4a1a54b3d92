package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSimulatorPage(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    Config
		status int
		token  string
	}{
		{"dev", Config{Simulator: true, SimulatorToken: "dev"}, http.StatusOK, `value="dev"`},
		{"enabled without a token in the page", Config{Simulator: true}, http.StatusOK, `id="token" value=""`},
		{"off", Config{}, http.StatusNotFound, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := NewServer(Deps{}, c.cfg)
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/simulator", nil))
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			if c.status == http.StatusOK && (!strings.Contains(w.Body.String(), c.token) ||
				!strings.Contains(w.Body.String(), "ussd/africastalking/")) {
				t.Fatalf("page lacks %q:\n%s", c.token, w.Body.String())
			}
		})
	}
}
