// Package fakeapi is the machinery the fakes of the providers' SMS APIs
// share (attest for Africa's Talking, twiliotest for Twilio), so that tests
// script and inspect every fake the same way: a local HTTP server that
// records each request, answers it from a script of canned responses, and
// can answer late or hang up, as the real APIs do at their worst.
//
// A provider's fake brings only what makes it that provider: what it records
// of a request beyond the common Request, what its API refuses whatever the
// script says, and its default acceptance.
package fakeapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Request is what every fake records of a request.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Form   url.Values // the parsed body
	Body   string
	At     time.Time
}

// Response is how a fake answers one request.
type Response struct {
	Status      int
	Body        string
	ContentType string
	Header      map[string]string
	// Delay holds the answer back (the request has then been received and
	// recorded, like a request the provider took but answered too late). It
	// ends early when the client hangs up.
	Delay time.Duration
	// Hangup closes the connection without answering, after Delay.
	Hangup bool
}

// API is what makes a fake one provider's; R is its record of a request.
type API[R any] struct {
	// Record turns the common record of r into the provider's.
	Record func(r *http.Request, common Request) R
	// Refuse answers, ahead of the script, a request the real API refuses
	// whatever else happens (a wrong path, wrong credentials); such a
	// request is recorded but uses up no scripted answer. It runs with the
	// fake's lock held. Nil refuses nothing.
	Refuse func(R) (Response, bool)
	// Accept is the default answer, to the n-th request it answers
	// (counting from 1), so that each acceptance can carry a fresh ID.
	Accept func(req R, n int) Response
	// ContentType is sent with responses that name none.
	ContentType string
}

// Server is a fake API. Its URL is the base URL to give the client.
type Server[R any] struct {
	*httptest.Server

	api      API[R]
	mu       sync.Mutex
	requests []R
	queue    []func(R) Response
	respond  func(R) Response
	accepted int
	notify   chan struct{}
}

// New starts a fake that answers every request with api.Accept, closed when
// the test ends.
func New[R any](t testing.TB, api API[R]) *Server[R] {
	s := &Server[R]{api: api, notify: make(chan struct{}, 1)}
	s.respond = s.accept
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Respond makes fn answer every request not answered by Enqueue.
func (s *Server[R]) Respond(fn func(R) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = fn
}

// Enqueue scripts the answers to the next requests, in order; the default
// (or Respond's) answers the rest.
func (s *Server[R]) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.queue = append(s.queue, func(R) Response { return r })
	}
}

// EnqueueAccept scripts an acceptance of the next request (as the default
// does), for use between other scripted answers.
func (s *Server[R]) EnqueueAccept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, s.accept)
}

// Requests returns a copy of what the fake received so far.
func (s *Server[R]) Requests() []R {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]R(nil), s.requests...)
}

// Count is the number of requests received.
func (s *Server[R]) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Received is signalled (without blocking, coalesced) after each request is
// recorded.
func (s *Server[R]) Received() <-chan struct{} { return s.notify }

func (s *Server[R]) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	req := s.api.Record(r, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: form,
		Body: string(body), At: time.Now()})

	s.mu.Lock()
	s.requests = append(s.requests, req)
	var resp Response
	refused := false
	if s.api.Refuse != nil {
		resp, refused = s.api.Refuse(req)
	}
	fn := s.respond
	if !refused && len(s.queue) > 0 {
		fn, s.queue = s.queue[0], s.queue[1:]
	}
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}

	if !refused {
		resp = fn(req)
	}
	if resp.Delay > 0 {
		select {
		case <-time.After(resp.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if resp.Hangup {
		panic(http.ErrAbortHandler)
	}
	for k, v := range resp.Header {
		w.Header().Set(k, v)
	}
	ct := resp.ContentType
	if ct == "" {
		ct = s.api.ContentType
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(resp.Status)
	io.WriteString(w, resp.Body) //nolint:errcheck // the client hung up
}

// accept is the default answer.
func (s *Server[R]) accept(req R) Response {
	s.mu.Lock()
	s.accepted++
	n := s.accepted
	s.mu.Unlock()
	return s.api.Accept(req, n)
}
