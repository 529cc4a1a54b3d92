// Package providertest holds what the provider packages' tests share: building
// a request as an aggregator sends it, mapping parse errors to the HTTP status
// the gateway answers, and walking hops through the hop model as the gateway
// pipeline does.
package providertest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

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
