package gateway

import (
	"html/template"
	"net/http"
)

// simulator serves the browser phone simulator: page, a provider's browser
// phone (providers.Client.Page), which dials this gateway in that
// provider's wire format. token is put in the page only in development;
// elsewhere the user types it.
func simulator(page, token string) http.HandlerFunc {
	tmpl := template.Must(template.New("simulator").Parse(page))
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		tmpl.Execute(w, struct{ Token string }{token}) //nolint:errcheck // the browser went away
	}
}
