// Package providertest holds what the provider packages' tests share: building
// a request as an aggregator sends it, mapping parse errors to the HTTP status
// the gateway answers, walking hops through the hop model as the gateway
// pipeline does, and (sms.go) driving an outbound SMS client against its
// provider's fake API.
package providertest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
)

// NewRequest builds a request with the given content type (none when empty)
// and body, cut off by http.MaxBytesReader at limit bytes when limit > 0.
func NewRequest(method, target, ct, body string, limit int64) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if limit > 0 {
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
	}
	return r
}

// StatusOf is how the gateway answers a parser's error: 413 when the body was
// too large, 400 when malformed, 200 for no error.
func StatusOf(err error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, providers.ErrMalformed):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// Step is one hop of a walk and what the gateway must make of it.
type Step struct {
	Hop    providers.Hop
	Inputs []string // what Inputs must return
	Key    string   // the replay key the gateway checks and stores (KeyAt)
}

// Walk runs steps through the hop model as the gateway pipeline does for one
// session: the first hop opens it, each later one follows the transcript the
// previous hop left, and the replay key is taken with the count of hops
// answered before it. serviceCode stands in for the gateway's configured code
// on wires that carry none.
func Walk(t *testing.T, serviceCode string, steps []Step) {
	t.Helper()
	prev, phone, code := "", "", ""
	for i, st := range steps {
		hop := st.Hop
		if hop.ServiceCode == "" {
			hop.ServiceCode = serviceCode
		}
		if i > 0 && !hop.BoundTo(phone, code) {
			t.Fatalf("hop %d: not bound to the session's phone %q and code %q", i+1, phone, code)
		}
		if hop.Stale(i) {
			t.Fatalf("hop %d: stale (Seq %d)", i+1, hop.Seq)
		}
		inputs, err := hop.Inputs(prev, i == 0)
		if err != nil {
			t.Fatalf("hop %d: Inputs: %v", i+1, err)
		}
		if !slices.Equal(inputs, st.Inputs) {
			t.Errorf("hop %d: inputs %q, want %q", i+1, inputs, st.Inputs)
		}
		if key := hop.KeyAt(i); key != st.Key {
			t.Errorf("hop %d: replay key %q, want %q", i+1, key, st.Key)
		}
		if i == 0 {
			phone, code = hop.Phone, hop.ServiceCode
		}
		prev = hop.Text
	}
}

// HopCase is one request as an aggregator sends it and what the gateway must
// make of it. Status is how the gateway answers the parser's error (StatusOf):
// 200 means Hop is expected, any other that the error mentions ErrText.
type HopCase struct {
	Label   string
	CT      string
	Body    string
	Limit   int64 // http.MaxBytesReader limit when > 0
	Status  int
	ErrText string
	Hop     providers.Hop
}

// RunHopCases runs each case as a subtest: its body POSTed to target, parsed
// by parse, the outcome checked by CheckHop.
func RunHopCases(t *testing.T, target string, cases []HopCase, parse func(*http.Request) (providers.Hop, error)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Label, func(t *testing.T) {
			hop, err := parse(NewRequest(http.MethodPost, target, tc.CT, tc.Body, tc.Limit))
			CheckHop(t, hop, err, tc.Status, tc.ErrText, tc.Hop)
		})
	}
}

// CheckHop fails t unless a parser's outcome is what a case expects: the
// gateway answers err with status, an error mentions errText, and with no
// error the hop is want.
func CheckHop(t *testing.T, hop providers.Hop, err error, status int, errText string, want providers.Hop) {
	t.Helper()
	CheckParsed(t, "hop", hop, err, status, errText, want)
}

// CheckParsed is CheckHop for whatever a parser makes of a request (an
// inbound SMS, a delivery report, a session event); what names it in
// failures.
func CheckParsed[T comparable](t *testing.T, what string, got T, err error, status int, errText string, want T) {
	t.Helper()
	if s := StatusOf(err); s != status {
		t.Fatalf("status %d (err %v), want %d", s, err, status)
	}
	if err != nil {
		if !strings.Contains(err.Error(), errText) {
			t.Errorf("err %q, want it to mention %q", err, errText)
		}
		return
	}
	if got != want {
		t.Errorf("%s\n got %+v\nwant %+v", what, got, want)
	}
}

// MustHop parses r with parse and fails t on an error.
func MustHop(t *testing.T, parse func(*http.Request) (providers.Hop, error), r *http.Request) providers.Hop {
	t.Helper()
	hop, err := parse(r)
	if err != nil {
		t.Fatal(err)
	}
	return hop
}

// Start marks a fixture hop as a session's first, on the dialled string.
func Start(dialled string) func(*providers.Hop) {
	return func(h *providers.Hop) { h.MarkStart(dialled) }
}

// Input gives a fixture hop the user's newest input.
func Input(text string) func(*providers.Hop) { return func(h *providers.Hop) { h.Text = text } }

// PhoneRE is what a parsed hop's phone number must look like after
// wire's normalisation.
var PhoneRE = regexp.MustCompile(`^(\+[1-9]\d{5,14}|0\d{5,14}|\+0\d{5,14})$`)

// Refused reports whether a fuzzed parse returned an error, failing t unless
// that error wraps providers.ErrMalformed: a parser refuses bad input as
// malformed and nothing else.
func Refused(t *testing.T, err error) bool {
	t.Helper()
	if err != nil && !errors.Is(err, providers.ErrMalformed) {
		t.Fatalf("error %v does not wrap ErrMalformed", err)
	}
	return err != nil
}

// ValidUTF8 fails t for each of ss that is not valid UTF-8.
func ValidUTF8(t *testing.T, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 %q", s)
		}
	}
}

// Storable fails t for each of ss that a database would not store as text:
// not valid UTF-8, or holding a NUL.
func Storable(t *testing.T, ss ...string) {
	t.Helper()
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.Contains(s, "\x00") {
			t.Errorf("unstorable %q", s)
		}
	}
}

// FormValues is a form body a fuzzed parse accepted, as url.ParseQuery reads
// it, failing t when ParseQuery refuses it: a hand-written form decoder must
// accept nothing the standard one refuses.
func FormValues(t *testing.T, body []byte) url.Values {
	t.Helper()
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("accepted a body url.ParseQuery refuses: %v", err)
	}
	return vals
}

// Parser returns a fixture helper for the test of a provider whose hops
// arrive as POSTs of content type ct to target: it parses a body with parse
// and fails t on an error.
func Parser(parse func(*http.Request) (providers.Hop, error), target, ct string) func(*testing.T, string) providers.Hop {
	return func(t *testing.T, body string) providers.Hop {
		t.Helper()
		return MustHop(t, parse, NewRequest(http.MethodPost, target, ct, body, 0))
	}
}

// BodyCase is a reply to a hop and the exact body the provider must answer
// it with.
type BodyCase struct {
	Label string
	Hop   providers.Hop
	Rep   providers.Reply
	Body  string
}

// RunBodyCases runs each case as a subtest: body must make the case's body
// of it, and so must the provider's declared renderer, under content type ct.
func RunBodyCases(t *testing.T, ct string, cases []BodyCase,
	body func(providers.Hop, providers.Reply) []byte, ussd *providers.USSD) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Label, func(t *testing.T) {
			if got := string(body(tc.Hop, tc.Rep)); got != tc.Body {
				t.Errorf("Body\n got %s\nwant %s", got, tc.Body)
			}
			if got := string(ussd.Render(tc.Hop, tc.Rep)); ussd.ContentType != ct || got != tc.Body {
				t.Errorf("Provider.USSD: %q %s", ussd.ContentType, got)
			}
		})
	}
}

// FuzzJSONHops fuzzes a JSON provider's parse, seeded with the bodies and
// content types of cases, POSTing to target. Whatever parse accepts must
// pass checkHop, be one JSON object that encoding/json accepts too (a
// hand-written decoder must not be laxer than the standard one), and then
// pass checkReply, which checks what the provider answers the hop with.
func FuzzJSONHops(f *testing.F, target string, cases []HopCase, parse func(*http.Request) (providers.Hop, error),
	checkHop, checkReply func(*testing.T, providers.Hop)) {
	f.Helper()
	for _, tc := range cases {
		f.Add([]byte(tc.Body), tc.CT)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		hop, err := parse(NewRequest(http.MethodPost, target, ct, string(body), 0))
		if Refused(t, err) {
			return
		}
		checkHop(t, hop)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		checkReply(t, hop)
	})
}
