package smsapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/providers"
)

// A client's errors name it however deep in Send they were built.
func TestAttributeNamesTheClient(t *testing.T) {
	send := func() (err error) {
		defer Attribute(&err, "twilio")
		return &providers.SendError{MaybeSent: true, Status: "Timeout", Reason: "no answer in time"}
	}
	if got, want := send().Error(), "twilio send (maybe sent): Timeout: no answer in time"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	plain := errors.New("not ours")
	err := plain
	Attribute(&err, "twilio")
	if err != plain {
		t.Errorf("Attribute changed a foreign error: %v", err)
	}
	if got := (&providers.SendError{Status: "X", Reason: "y"}).Error(); got != "sms send (permanent): X: y" {
		t.Errorf("unattributed: %q", got)
	}
}

func TestDoClassifiesMissingAnswers(t *testing.T) {
	hangup := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer hangup.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck // only so that a hangup cancels r's context
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()

	for _, tc := range []struct {
		label                string
		url                  string
		retryable, maybeSent bool
		status               string
	}{
		{"nothing listening", refusedURL, true, false, "NetworkError"},
		{"hung up after the request", hangup.URL, false, true, "NetworkError"},
		{"no answer in time", slow.URL, false, true, "Timeout"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tc.url, strings.NewReader("a=1"))
			_, _, e := Do(HTTPClient(nil), req, "the API")
			if e == nil || e.Retryable != tc.retryable || e.MaybeSent != tc.maybeSent || e.Status != tc.status {
				t.Fatalf("got %+v", e)
			}
			if tc.maybeSent && !strings.Contains(e.Reason, "reached the API") {
				t.Errorf("reason %q does not name the API", e.Reason)
			}
		})
	}
}

// A redirect comes back as the answer, for the client to call a
// configuration error, never followed as a GET without the form.
func TestDoReportsRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			t.Errorf("followed the redirect with %s", r.Method)
		}
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("a=1"))
	resp, _, e := Do(HTTPClient(&http.Client{Timeout: time.Second}), req, "the API")
	if e != nil || resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/elsewhere" {
		t.Fatalf("resp %v, err %v", resp, e)
	}
}

// The poster hides its secrets in what comes back, wherever they stand, but
// not strings too short to be one: hiding those would garble answers.
func TestPostFormHidesSecrets(t *testing.T) {
	const secret = "AC5e2d8c1b4a7f6e9d0c3b2a1f4e7d8c9b"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"uri":"` + r.URL.Path + `","status":"ok"}`)) //nolint:errcheck
	}))
	defer srv.Close()
	p := Poster{Endpoint: srv.URL + "/Accounts/" + secret, HTTP: HTTPClient(nil), Timeout: time.Second,
		Secrets: []string{secret, "ok", ""}}
	_, body, e := p.PostForm(context.Background(), nil, func(*http.Request) {})
	if e != nil || string(body) != `{"uri":"/Accounts/[hidden]","status":"ok"}` {
		t.Errorf("body %s, err %v", body, e)
	}

	srv.Close()
	_, _, e = p.PostForm(context.Background(), nil, func(*http.Request) {})
	if e == nil || strings.Contains(e.Reason, secret) || strings.Contains(e.Err.Error(), secret) {
		t.Errorf("unreachable: %+v", e)
	}
}

func TestRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30": 30 * time.Second, " 7 ": 7 * time.Second, "0": 0, "-5": 0, "": 0,
		"Wed, 21 Oct 2015 07:28:00 GMT": 0, "999999": time.Hour,
	} {
		if got := RetryAfter(in); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestFlexInt(t *testing.T) {
	for in, want := range map[string]int{`101`: 101, `"2"`: 2, `null`: 0, `""`: 0} {
		var n FlexInt
		if err := json.Unmarshal([]byte(in), &n); err != nil || int(n) != want {
			t.Errorf("%s: %d, %v; want %d", in, n, err, want)
		}
	}
	var n FlexInt
	if err := json.Unmarshal([]byte(`"1.5"`), &n); err == nil {
		t.Errorf("1.5 read as %d", n)
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" ok\n", "ok"},
		{"a\x00b\x1bc\u0085d", "abcd"},
		{"bad \xff\xfe bytes", "bad ? bytes"},
		{"bad\xff and\ncontrol", "bad? andcontrol"},
		{strings.Repeat("é", 150), strings.Repeat("é", MaxReason/2)},
		{strings.Repeat("a", 199) + "é", strings.Repeat("a", 199)},
	} {
		if got := Clip(tc.in); got != tc.want {
			t.Errorf("Clip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Snippet([]byte("<h1>500\n\n  Internal\tError</h1>\xff")); got != "<h1>500 Internal Error</h1>?" {
		t.Errorf("Snippet: %q", got)
	}
	if got := Snippet([]byte(strings.Repeat("word ", 100))); len(got) > MaxReason {
		t.Errorf("Snippet of %d bytes", len(got))
	}
}
