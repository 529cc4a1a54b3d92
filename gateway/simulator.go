package gateway

import (
	_ "embed"
	"html/template"
	"net/http"
)

//go:embed simulator.html
var simulatorPage string

var simulatorTemplate = template.Must(template.New("simulator").Parse(simulatorPage))

// simulator serves the browser phone simulator (DESIGN.md §2.2): a page
// that dials this gateway in Africa's Talking's wire format. token is put in
// the page only in development; elsewhere the user types it.
func simulator(token string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		simulatorTemplate.Execute(w, struct{ Token string }{token}) //nolint:errcheck // the browser went away
	}
}
