package providertest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/fakeapi"
)

// Fake is what the SMS client harness needs of a provider's fake API
// (attest.Server, twiliotest.Server: what their fakeapi.Server gives them).
type Fake interface {
	Enqueue(rs ...fakeapi.Response)
	Count() int
}

// Sent is what a send request must carry, as the provider's fake recorded it.
type Sent struct {
	Header map[string]string // headers and the values they must have
	Form   url.Values        // the whole form body
	// PlusEncoded must stand in the raw body as is: the recipient with its
	// '+' percent-encoded ("to=%2B255712345678"), since a raw '+' would
	// arrive as a space.
	PlusEncoded string
}

// Check fails t unless a recorded request's header, parsed form and raw body
// are what want says.
func (want Sent) Check(t *testing.T, header http.Header, form url.Values, body string) {
	t.Helper()
	for h, v := range want.Header {
		if got := header.Get(h); got != v {
			t.Errorf("header %s = %q, want %q", h, got, v)
		}
	}
	if form.Encode() != want.Form.Encode() {
		t.Errorf("form\n got %s\nwant %s", form.Encode(), want.Form.Encode())
	}
	if !strings.Contains(body, want.PlusEncoded) {
		t.Errorf("body %q does not percent-encode the '+'", body)
	}
}

// SendRefused scripts answer as fake's answer to the next request and sends
// message to to through send (a client's Send), once. The send must fail
// with a *SendError, returned along with the error as Send returned it,
// after exactly one request reached fake (no hidden retries).
func SendRefused[R any](t *testing.T, fake Fake, answer fakeapi.Response,
	send func(context.Context, string, string) (R, error), to, message string) (*providers.SendError, error) {
	t.Helper()
	fake.Enqueue(answer)
	_, err := send(context.Background(), to, message)
	var se *providers.SendError
	if !errors.As(err, &se) {
		t.Fatalf("err %v (%T), want *SendError", err, err)
	}
	if fake.Count() != 1 {
		t.Errorf("%d requests, want exactly 1 (no hidden retries)", fake.Count())
	}
	return se, err
}

// SendWant is how a client must classify a send its provider did not accept.
type SendWant struct {
	Retryable, MaybeSent, Throttled, Config bool
	Status                                  string
	Code                                    int    // the provider's code (see CheckSendError)
	Reason                                  string // a part of the reason
}

// CheckSendError fails t unless se is classified as want says. code is what
// se says of the provider's code: Code, or StatusCode where the provider
// reports a status per recipient.
func CheckSendError(t *testing.T, se *providers.SendError, code int, want SendWant) {
	t.Helper()
	if se.Retryable != want.Retryable || se.MaybeSent != want.MaybeSent || se.Throttled != want.Throttled || se.Config != want.Config {
		t.Errorf("classified %+v", se)
	}
	if se.Status != want.Status || code != want.Code {
		t.Errorf("status %q code %d, want %q %d", se.Status, code, want.Status, want.Code)
	}
	if !strings.Contains(se.Reason, want.Reason) {
		t.Errorf("reason %q, want it to contain %q", se.Reason, want.Reason)
	}
}

// SendTimesOut sends to to through send, whose client gives up after
// timeout, while the fake holds its answer back far longer. The request
// reached the provider, which may have sent it: the send must end in good
// time as a MaybeSent Timeout wrapping context.DeadlineExceeded, never
// Retryable.
func SendTimesOut[R any](t *testing.T, send func(context.Context, string, string) (R, error), timeout time.Duration, to string) {
	t.Helper()
	start := time.Now()
	_, err := send(context.Background(), to, "hello")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v despite a %v timeout", took, timeout)
	}
	var se *providers.SendError
	if !errors.As(err, &se) || !se.MaybeSent || se.Retryable || se.Status != "Timeout" {
		t.Fatalf("err %+v, want MaybeSent Timeout", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v does not wrap DeadlineExceeded", err)
	}
}

// SendUnreachable sends to to through send, whose client points where
// nothing listens. The request never left, so the send must be a Retryable
// NetworkError, not MaybeSent.
func SendUnreachable[R any](t *testing.T, send func(context.Context, string, string) (R, error), to string) {
	t.Helper()
	_, err := send(context.Background(), to, "hello")
	var se *providers.SendError
	if !errors.As(err, &se) || !se.Retryable || se.MaybeSent || se.Status != "NetworkError" {
		t.Fatalf("err %+v, want Retryable NetworkError", err)
	}
}

// RefusedLocally returns err, of a send the client refused before calling its
// API, as a *SendError, failing t unless it is one with this status and
// Config, neither Retryable nor MaybeSent.
func RefusedLocally(t *testing.T, err error, status string, config bool) *providers.SendError {
	t.Helper()
	var se *providers.SendError
	if !errors.As(err, &se) || se.Status != status || se.Config != config || se.Retryable || se.MaybeSent {
		t.Fatalf("err %+v", err)
	}
	return se
}

// NoSecrets fails t if err, anything it wraps, or the reason and status of
// the *SendError in it, carries any of secrets: what leaves an SMS client
// reaches logs and the outbox.
func NoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	var texts []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		texts = append(texts, e.Error())
		if se, ok := e.(*providers.SendError); ok {
			texts = append(texts, se.Reason, se.Status)
		}
	}
	for _, text := range texts {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%q carries the secret %q", text, secret)
			}
		}
	}
}
