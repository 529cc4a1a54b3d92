package gateway

import (
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The support page (README.md, "Support: tracing a caller"): on the admin
// listener only, behind SUPPORT_TOKEN, a search of the conversation trace
// shown as the phone showed it. It is off, with a 404 that says so, until a
// token is configured: the trace holds phone numbers and what callers typed.

//go:embed support.html
var supportFS embed.FS

var supportPage = template.Must(template.New("support.html").Funcs(template.FuncMap{
	"clock": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"ms":    func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() },
}).ParseFS(supportFS, "support.html"))

// SupportConfig turns the support page on.
type SupportConfig struct {
	// Token is the secret a support person gives as the password of HTTP
	// basic authentication (any user name) or as a bearer token; empty
	// turns the page off.
	Token string
	// Trace reads the trace; nil turns the page off.
	Trace TraceReader
	// PhoneRegion reads national phone numbers typed in the search.
	PhoneRegion string
}

// defaultSupportSince is how far back a search looks unless told.
const defaultSupportSince = 7 * 24 * time.Hour

type supportView struct {
	Query    map[string]string
	Since    string
	Searched bool
	Error    string
	Timeline Timeline
	// Linked lists, by link, the items of the SMS tied to a renewal or an
	// inbound SMS; Origin is that renewal's or inbound SMS's item.
	Linked map[string][]string
	Origin map[string]string
}

// link ties the timeline's items to one another for the page's anchors.
func (v *supportView) link() {
	v.Linked, v.Origin = map[string][]string{}, map[string]string{}
	for i, item := range v.Timeline.Items {
		if l := item.Line; l != nil && l.Link != "" && l.Kind != TraceSMSOut {
			v.Origin[l.Link] = "item-" + strconv.Itoa(i)
		}
	}
	for i, item := range v.Timeline.Items {
		if l := item.Line; l != nil && l.Link != "" && l.Kind == TraceSMSOut {
			v.Linked[l.Link] = append(v.Linked[l.Link], "item-"+strconv.Itoa(i))
		}
	}
}

// support serves the page, or says why it is off.
func (s *Server) support() http.HandlerFunc {
	cfg := s.cfg.Support
	if cfg.Token == "" || cfg.Trace == nil {
		return func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "The support page is off: set SUPPORT_TOKEN (and ADMIN_ADDR) to turn it on.", http.StatusNotFound)
		}
	}
	want := []byte(cfg.Token)
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		if subtle.ConstantTimeCompare([]byte(supportCredential(r)), want) != 1 {
			h.Set("WWW-Authenticate", `Basic realm="imis-gateway support", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		view := supportView{Query: map[string]string{}, Since: q.Get("since")}
		for _, name := range []string{"phone", "session", "chfid", "receipt"} {
			if v := strings.TrimSpace(q.Get(name)); v != "" {
				view.Query[name] = v
			}
		}
		status := http.StatusOK
		if len(view.Query) > 0 {
			view.Searched = true
			since, err := ParseSince(view.Since, defaultSupportSince)
			if err == nil {
				view.Timeline, err = SearchTrace(r.Context(), cfg.Trace, TraceQuery{
					Phone: view.Query["phone"], SessionID: view.Query["session"], CHFID: view.Query["chfid"],
					Receipt: view.Query["receipt"], Since: time.Now().Add(-since), PhoneRegion: cfg.PhoneRegion})
			}
			switch {
			case errors.Is(err, ErrTraceQuery) || errors.Is(err, ErrSince):
				view.Error, status = err.Error(), http.StatusBadRequest
			case err != nil:
				s.log.Warn("support: search", "err", err)
				view.Error, status = "The trace could not be read; try again.", http.StatusServiceUnavailable
			}
		}
		view.link()
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		if err := supportPage.Execute(w, view); err != nil {
			s.log.Warn("support: render", "err", err)
		}
	}
}

// supportCredential is the password of basic authentication, or the
// bearer token.
func supportCredential(r *http.Request) string {
	if _, password, ok := r.BasicAuth(); ok {
		return password
	}
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return token
	}
	return ""
}

// ErrSince is a --since or since= that is no duration.
var ErrSince = errors.New("since: want a duration such as 24h, 7d or 30d")

// ParseSince reads how far back to look: a Go duration, or days as "7d";
// empty is def.
func ParseSince(v string, def time.Duration) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, ErrSince
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, ErrSince
	}
	return d, nil
}
