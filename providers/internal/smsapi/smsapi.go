// Package smsapi is what the providers' outbound SMS clients share, so that
// the outbox sees every provider's refusals classified by the same rules: one
// error type (providers.SendError), one request
// exchange that draws the line between "certainly not sent" and "may have
// been sent", and one way of taming provider text before it reaches logs and
// database rows: the client's credentials hidden, phone numbers masked, cut
// short.
//
// What belongs to one provider stays in its package: the request itself, and
// how its answers read (AT's per-recipient status codes, Twilio's error
// codes).
package smsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/openimis/imis-gateway/clip"
	"github.com/openimis/imis-gateway/providers"
)

const (
	// MaxResponse caps what is read of an answer: a provider's JSON answer
	// for one message is at most a few hundred bytes to ~1 KB, an HTML
	// error page a few KB.
	MaxResponse = 64 << 10
	// MaxReason caps provider text copied into errors, logs and the outbox.
	MaxReason = 200
)

// Attribute sets the Provider of the *providers.SendError in *err, if there is one.
// A client defers it once in Send, with Send's named error result, rather
// than naming itself at every place that builds an error.
func Attribute(err *error, provider string) {
	if e, ok := (*err).(*providers.SendError); ok && e.Provider == "" {
		e.Provider = provider
	}
}

// HTTPClient copies hc (a zero client when nil) to report redirects instead
// of following them. net/http follows a 301-303 by turning the POST into a
// GET without its form, so a redirect can only mean a wrong API URL
// (http:// instead of https://, a stale host), which the client should say.
func HTTPClient(hc *http.Client) *http.Client {
	c := http.Client{}
	if hc != nil {
		c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// Do sends req, whose context should carry the send's deadline, and reads
// at most MaxResponse bytes of the answer; the returned response's body is
// already closed. api names the provider in reasons ("Twilio").
//
// It returns a *providers.SendError only when no usable answer came back: a failure
// before the request was fully written is Retryable; a failure or timeout
// after it, or a 2xx whose body cannot be read, is MaybeSent, since the
// provider may have acted on it. Any other answer, with what could be read
// of its body, is for the client to classify.
func Do(hc *http.Client, req *http.Request, api string) (*http.Response, []byte, *providers.SendError) {
	// Whether the whole request left this process is the line between the
	// two: httptrace reports it.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, transportError(req.Context(), WithoutURL(err), wrote.Load(), api)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	if err != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		e := transportError(req.Context(), err, true, api)
		e.HTTPStatus = resp.StatusCode
		return nil, nil, e
	}
	return resp, body, nil
}

// transportError classifies a failure to get an answer: after the request
// was written the provider may have acted on it.
func transportError(ctx context.Context, err error, written bool, api string) *providers.SendError {
	status, what := "NetworkError", "network error"
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
		status, what = "Timeout", "no answer in time"
	} else if errors.Is(err, context.Canceled) {
		status, what = "Canceled", "send canceled"
	}
	if written {
		return &providers.SendError{MaybeSent: true, Status: status, Err: err,
			Reason: what + " after the request reached " + api + "; it may have been sent: " + Clip(err.Error())}
	}
	return &providers.SendError{Retryable: true, Status: status, Err: err, Reason: what + " before the request was sent: " + Clip(err.Error())}
}

// WithoutURL drops the URL net/http and net/url put into their errors: it
// may carry an account (Twilio's path names it), a callback token or a
// password, and errors end up in logs, the outbox and terminals.
func WithoutURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	return err
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// RetryAfter reads a Retry-After header in seconds, capped at an hour so a
// wild value cannot park a provider for days; dates and garbage are 0.
func RetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

// FlexInt reads a JSON number, a string holding one, or null as 0: providers
// write the same field either way (Twilio's num_segments is a string, its
// codes numbers) and nothing documents that any must stay so.
type FlexInt int

func (n *FlexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer: %s", Clip(string(b)))
	}
	*n = FlexInt(v)
	return nil
}

// Snippet is body as one short line of valid UTF-8, for reasons and logs:
// whitespace runs made single spaces and phone numbers masked (providers'
// pages and errors may quote the recipient), masked before it is cut so that
// no number is cut short of the mask.
func Snippet(body []byte) string {
	return Clip(providers.MaskPhones(strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " ")))
}

// Quote is provider text (an error message, a status summary) as reasons
// carry it: Clean, with phone numbers masked before it is cut.
func Quote(s string) string { return Clip(providers.MaskPhones(Clean(s, MaxResponse))) }

// Clean trims s, drops control characters and cuts it to limit bytes on a
// rune boundary: provider text ends up in logs and database rows.
func Clean(s string, limit int) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "?")
	if strings.ContainsFunc(s, unicode.IsControl) {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, s)
	}
	return clip.Bytes(s, limit)
}

// Clip is Clean to MaxReason bytes.
func Clip(s string) string { return Clean(s, MaxReason) }

// OrDefault is s, or def when s is empty: reasons must never be blank.
func OrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Poster is a client's side of the exchange: every send is one form POST
// to Endpoint, bounded by Timeout on top of the caller's context.
type Poster struct {
	Endpoint string
	HTTP     *http.Client // from HTTPClient, so that redirects come back
	Timeout  time.Duration
	API      string // names the provider in reasons ("Twilio")
	URLName  string // names the endpoint in reasons ("Twilio API URL")
	// Secrets are the client's credentials and account identifiers (API
	// key, auth token, account SID). Whatever the exchange gives back is
	// rid of them before a client reads it, so that no reason, log line or
	// outbox row carries them: providers quote the request's path in their
	// errors (Twilio's names the account), and a proxy's error page may
	// quote anything.
	Secrets []string
}

// minSecret is the shortest secret Poster hides: real keys, tokens and SIDs
// are 32 characters or more, while hiding a short string would garble
// answers that merely contain it.
const minSecret = 8

// hide replaces each of p's secrets in s.
func (p *Poster) hide(s string) string {
	for _, secret := range p.Secrets {
		if len(secret) >= minSecret {
			s = strings.ReplaceAll(s, secret, "[hidden]")
		}
	}
	return s
}

// BaseURL is base, or def when base is blank, without a trailing slash, so
// that a configured URL with one still joins its API path cleanly.
func BaseURL(base, def string) string {
	return strings.TrimRight(OrDefault(strings.TrimSpace(base), def), "/")
}

// Timeout is d, or def when d is not positive.
func Timeout(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// PostForm posts form, with auth adding the provider's credentials, and
// reads the answer as Do does, with p's Secrets hidden in the answer's body
// and in the reason of a missing answer. An endpoint no request can be built
// for is a configuration error: nothing was sent.
func (p *Poster) PostForm(ctx context.Context, form url.Values, auth func(*http.Request)) (*http.Response, []byte, *providers.SendError) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		err = WithoutURL(err)
		return nil, nil, &providers.SendError{Config: true, Status: "BadURL", Reason: p.URLName + ": " + p.hide(err.Error()), Err: err}
	}
	auth(req)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, failed := Do(p.HTTP, req, p.API)
	if failed != nil {
		failed.Reason = p.hide(failed.Reason)
		return nil, nil, failed
	}
	return resp, []byte(p.hide(string(body))), nil
}

// Redirected classifies a 3xx answer, which HTTP reports instead of
// following: only a wrong endpoint redirects, and every send will fail until
// it is fixed as hint says.
func (p *Poster) Redirected(resp *http.Response, hint string) *providers.SendError {
	return &providers.SendError{Config: true, HTTPStatus: resp.StatusCode, Status: "HTTP " + strconv.Itoa(resp.StatusCode),
		Reason: fmt.Sprintf("%s redirects to %q; %s", p.URLName, Quote(p.hide(resp.Header.Get("Location"))), hint)}
}
