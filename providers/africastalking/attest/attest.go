// Package attest is a fake of Africa's Talking's SMS API for tests: a local
// HTTP server that answers POST /version1/messaging as AT does
// (protocols.md §2.4), in every case the gateway must handle, and records
// each request it got.
//
// By default every send is accepted (201, statusCode 101) with a fresh
// messageId. Tests script other answers with Enqueue (the next requests, in
// order) or Respond (every request).
package attest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Form   url.Values // the parsed body
	Body   string
	At     time.Time
}

// Response is how the fake answers one request.
type Response struct {
	Status      int
	Body        string
	ContentType string
	Header      map[string]string
	// Delay holds the answer back (the request has then been received and
	// recorded, like a request AT took but answered too late). It ends early
	// when the client hangs up.
	Delay time.Duration
	// Hangup closes the connection without answering, after Delay.
	Hangup bool
}

// Server is the fake API. Its URL is the AT_API_URL to give the client.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	requests []Request
	queue    []func(Request) Response
	respond  func(Request) Response
	next     int
	notify   chan struct{}
}

// New starts a fake that accepts every message, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{notify: make(chan struct{}, 1)}
	s.respond = s.accept
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Respond makes fn answer every request not answered by Enqueue.
func (s *Server) Respond(fn func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = fn
}

// Enqueue scripts the answers to the next requests, in order; the default
// (or Respond's) answers the rest.
func (s *Server) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.queue = append(s.queue, func(Request) Response { return r })
	}
}

// EnqueueAccept scripts an acceptance of the next request (as the default
// does), for use between other scripted answers.
func (s *Server) EnqueueAccept() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, s.accept)
}

// Requests returns a copy of what the fake received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is the number of requests received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Received is signalled (without blocking, coalesced) after each request is
// recorded.
func (s *Server) Received() <-chan struct{} { return s.notify }

// MessageID is the messageId the default answer gives the n-th request
// (counting from 1).
func MessageID(n int) string { return fmt.Sprintf("ATXid_fake%06d", n) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: form, Body: string(body), At: time.Now()}

	s.mu.Lock()
	s.requests = append(s.requests, req)
	fn := s.respond
	if len(s.queue) > 0 {
		fn, s.queue = s.queue[0], s.queue[1:]
	}
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}

	if r.Method != http.MethodPost || r.URL.Path != "/version1/messaging" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	resp := fn(req)
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
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(resp.Status)
	io.WriteString(w, resp.Body) //nolint:errcheck // the client hung up
}

// accept is the default answer: AT's 201 with one accepted recipient.
func (s *Server) accept(req Request) Response {
	s.mu.Lock()
	s.next++
	n := s.next
	s.mu.Unlock()
	return Accepted(req.Form.Get("to"), MessageID(n))
}

// Recipient is one entry of SMSMessageData.Recipients.
type Recipient struct {
	StatusCode int    `json:"statusCode"`
	Number     string `json:"number"`
	Status     string `json:"status"`
	Cost       string `json:"cost"`
	MessageID  string `json:"messageId"`
}

// SendAnswer builds AT's JSON answer with the given summary and recipients.
func SendAnswer(status int, message string, recipients ...Recipient) Response {
	if recipients == nil {
		recipients = []Recipient{}
	}
	var v struct {
		SMSMessageData struct {
			Message    string
			Recipients []Recipient
		}
	}
	v.SMSMessageData.Message = message
	v.SMSMessageData.Recipients = recipients
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return Response{Status: status, Body: string(b)}
}

// Accepted is AT's answer for a message sent (protocols.md §2.4).
func Accepted(number, messageID string) Response {
	return SendAnswer(http.StatusCreated, "Sent to 1/1 Total Cost: KES 0.8000",
		Recipient{StatusCode: 101, Number: number, Status: "Success", Cost: "KES 0.8000", MessageID: messageID})
}

// RecipientFailure is a 201 whose one recipient was refused, e.g. 403
// "InvalidPhoneNumber", 409 "DoNotDisturbRejection", 500
// "InternalServerError", 501 "GatewayError".
func RecipientFailure(number string, code int, status string) Response {
	return SendAnswer(http.StatusCreated, "Sent to 0/1 Total Cost: 0",
		Recipient{StatusCode: code, Number: number, Status: status, Cost: "0", MessageID: "None"})
}

// InvalidSenderID is AT's answer when the "from" is not registered: no
// recipients, the reason in the summary.
func InvalidSenderID() Response { return SendAnswer(http.StatusCreated, "InvalidSenderId") }

// Unauthorized is AT's plain-text 401 for a bad username or key.
func Unauthorized() Response {
	return Response{Status: http.StatusUnauthorized, ContentType: "text/plain", Body: "The supplied authentication is invalid"}
}

// Throttled is a 429, as courier's tests assume AT throttles.
func Throttled(retryAfterSeconds int) Response {
	r := Response{Status: http.StatusTooManyRequests, ContentType: "text/plain", Body: "Too Many Requests"}
	if retryAfterSeconds > 0 {
		r.Header = map[string]string{"Retry-After": fmt.Sprint(retryAfterSeconds)}
	}
	return r
}

// ServerError is an HTTP 500 with an HTML page.
func ServerError() Response {
	return Response{Status: http.StatusInternalServerError, ContentType: "text/html",
		Body: "<html><body><h1>500 Internal Server Error</h1></body></html>"}
}

// Malformed is a 201 whose body is not JSON.
func Malformed() Response {
	return Response{Status: http.StatusCreated, Body: `{"SMSMessageData":{"Message":"Sent to 1/1", "Recipients":[{`}
}

// Slow is an acceptance that arrives after d.
func Slow(number, messageID string, d time.Duration) Response {
	r := Accepted(number, messageID)
	r.Delay = d
	return r
}
