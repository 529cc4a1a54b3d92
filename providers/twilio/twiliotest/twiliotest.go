// Package twiliotest is a fake of Twilio's Messages API for tests: a local
// HTTP server that answers POST /2010-04-01/Accounts/{AccountSid}/Messages.json
// as Twilio does (docs/providers.md, "Twilio signatures"), in every case the gateway must handle,
// and records each request it got.
//
// By default every send is accepted (201, a Message resource with a fresh
// SID). Tests script other answers with Enqueue (the next requests, in order)
// or Respond (every request); RequireAuth makes the fake refuse other
// credentials as Twilio does.
package twiliotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers/internal/fakeapi"
)

// Request is one request the fake received: fakeapi.Request's fields and
// what Twilio reads from the path and the Authorization header, all at one
// level so that tests can write any of them in one literal.
type Request struct {
	Method string
	Path   string
	// AccountSID is the account in the path, "" when the path is not the
	// Messages resource.
	AccountSID string
	// User and Password are the Basic auth credentials, "" when none.
	User, Password string
	Header         http.Header
	Form           url.Values // the parsed body
	Body           string
	At             time.Time
}

// Response is how the fake answers one request. A Delay stands for a
// request Twilio took but answered too late.
type Response = fakeapi.Response

// Server is the fake API. Its URL is the BaseURL to give the client.
// Respond, Enqueue, EnqueueAccept, Requests, Count and Received script and
// inspect it as they do every provider's fake.
type Server struct {
	*fakeapi.Server[Request]

	mu         sync.Mutex
	user, pass string
}

// New starts a fake that accepts every message, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{}
	s.Server = fakeapi.New(t, fakeapi.API[Request]{
		Record: record,
		Refuse: s.refuse,
		// The n-th acceptance carries MessageSID(n), so that tests can
		// name the message each request became.
		Accept:      func(req Request, n int) Response { return Accepted(req, MessageSID(n)) },
		ContentType: "application/json; charset=utf-8",
	})
	return s
}

// RequireAuth makes the fake answer 401 (error 20003), before any scripted
// answer, to requests without these Basic auth credentials or for another
// account.
func (s *Server) RequireAuth(accountSID, authToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.pass = accountSID, authToken
}

// MessageSID is the SID the default answer gives the n-th accepted request
// (counting from 1): "SM" and 32 hex digits, as Twilio's.
func MessageSID(n int) string { return fmt.Sprintf("SM%032x", n) }

// MessagesPath is the path of an account's Messages resource.
func MessagesPath(accountSID string) string {
	return "/2010-04-01/Accounts/" + accountSID + "/Messages.json"
}

// record adds to what every fake records what Twilio reads from the path
// and the Authorization header.
func record(r *http.Request, c fakeapi.Request) Request {
	req := Request{Method: c.Method, Path: c.Path, Header: c.Header, Form: c.Form, Body: c.Body, At: c.At}
	req.User, req.Password, _ = r.BasicAuth()
	if sid, ok := strings.CutPrefix(c.Path, "/2010-04-01/Accounts/"); ok {
		if sid, ok = strings.CutSuffix(sid, "/Messages.json"); ok && sid != "" && !strings.Contains(sid, "/") {
			req.AccountSID = sid
		}
	}
	return req
}

// refuse answers what Twilio refuses before looking at a message: another
// resource, another method, credentials other than RequireAuth's.
func (s *Server) refuse(req Request) (Response, bool) {
	s.mu.Lock()
	authFailed := s.user != "" && (req.User != s.user || req.Password != s.pass || req.AccountSID != s.user)
	s.mu.Unlock()
	switch {
	case req.AccountSID == "":
		return Error(http.StatusNotFound, 20404, "The requested resource "+req.Path+" was not found"), true
	case req.Method != http.MethodPost:
		return Error(http.StatusMethodNotAllowed, 20004, "Method not allowed"), true
	case authFailed:
		return Unauthorized(), true
	}
	return Response{}, false
}

// Message is the Message resource as Twilio returns it (the fields that
// matter here; Twilio sends more).
type Message struct {
	AccountSID          string  `json:"account_sid"`
	APIVersion          string  `json:"api_version"`
	Body                string  `json:"body"`
	DateCreated         string  `json:"date_created"`
	DateSent            *string `json:"date_sent"`
	DateUpdated         string  `json:"date_updated"`
	Direction           string  `json:"direction"`
	ErrorCode           *int    `json:"error_code"`
	ErrorMessage        *string `json:"error_message"`
	From                *string `json:"from"`
	MessagingServiceSID *string `json:"messaging_service_sid"`
	NumMedia            string  `json:"num_media"`
	NumSegments         string  `json:"num_segments"`
	Price               *string `json:"price"`
	PriceUnit           string  `json:"price_unit"`
	SID                 string  `json:"sid"`
	Status              string  `json:"status"`
	To                  string  `json:"to"`
	URI                 string  `json:"uri"`
}

// Created answers 201 with m.
func Created(m Message) Response {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return Response{Status: http.StatusCreated, Body: string(b)}
}

// Accepted is Twilio's answer for a message created from req with the given
// SID: status "queued" and num_segments counted when From was given;
// "accepted" and num_segments "0" through a Messaging Service, which picks
// the sender (and only then counts segments) later.
func Accepted(req Request, sid string) Response {
	now := time.Now().UTC().Format(time.RFC1123Z)
	m := Message{
		AccountSID: req.AccountSID, APIVersion: "2010-04-01", Body: req.Form.Get("Body"),
		DateCreated: now, DateUpdated: now, Direction: "outbound-api", NumMedia: "0",
		NumSegments: fmt.Sprint(Segments(req.Form.Get("Body"))), PriceUnit: "USD",
		SID: sid, Status: "queued", To: req.Form.Get("To"),
		URI: "/2010-04-01/Accounts/" + req.AccountSID + "/Messages/" + sid + ".json",
	}
	if svc := req.Form.Get("MessagingServiceSid"); svc != "" {
		m.MessagingServiceSID, m.Status, m.NumSegments = &svc, "accepted", "0"
	} else {
		from := req.Form.Get("From")
		m.From = &from
	}
	return Created(m)
}

// Segments is a rough count of the segments Twilio bills for body: 160 or
// 70 characters in one (GSM-7 taken as ASCII), 153 or 67 each when split.
// Tests compare the client's Parts with it, not with the real rules.
func Segments(body string) int {
	single, multi := 160, 153
	for _, r := range body {
		if r > 0x7E {
			single, multi = 70, 67
			break
		}
	}
	n := utf8.RuneCountInString(body)
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// Error is Twilio's JSON error answer.
func Error(status, code int, message string) Response {
	b, err := json.Marshal(map[string]any{
		"code":      code,
		"message":   message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		"status":    status,
	})
	if err != nil {
		panic(err)
	}
	return Response{Status: status, Body: string(b)}
}

// InvalidTo is error 21211; Twilio quotes the number.
func InvalidTo(to string) Response {
	return Error(http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+to)
}

// Unsubscribed is error 21610: the recipient replied STOP.
func Unsubscribed() Response {
	return Error(http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
}

// NotMobile is error 21614: the number is a landline.
func NotMobile(to string) Response {
	return Error(http.StatusBadRequest, 21614, "To number: "+to+", is not a mobile number")
}

// InvalidFrom is error 21212: TWILIO_FROM is not a number of the account.
func InvalidFrom(from string) Response {
	return Error(http.StatusBadRequest, 21212, "The 'From' number "+from+" is not a valid phone number, shortcode, or alphanumeric sender ID.")
}

// QueueFull is error 21611: the sender's queue holds its maximum.
func QueueFull() Response {
	return Error(http.StatusBadRequest, 21611, "This 'From' number has exceeded the maximum number of queued messages")
}

// Unauthorized is Twilio's 401 (error 20003), with its "detail".
func Unauthorized() Response {
	return Response{Status: http.StatusUnauthorized,
		Body: `{"code":20003,"detail":"Your AccountSid or AuthToken was incorrect.","message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`}
}

// Throttled is a 429 (error 20429), with Retry-After when retryAfterSeconds > 0.
func Throttled(retryAfterSeconds int) Response {
	r := Error(http.StatusTooManyRequests, 20429, "Too Many Requests")
	if retryAfterSeconds > 0 {
		r.Header = map[string]string{"Retry-After": fmt.Sprint(retryAfterSeconds)}
	}
	return r
}

// ServerError is a 500 (error 20500).
func ServerError() Response {
	return Error(http.StatusInternalServerError, 20500, "An internal server error has occurred")
}

// BadGateway is a 502 with an HTML page, as a load balancer answers.
func BadGateway() Response {
	return Response{Status: http.StatusBadGateway, ContentType: "text/html",
		Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}
}

// Malformed is a 201 whose body is not JSON.
func Malformed() Response {
	return Response{Status: http.StatusCreated, Body: `{"sid": "SM0000000000000000000000000000dead", "status": "que`}
}

// Slow holds r back for d.
func Slow(r Response, d time.Duration) Response {
	r.Delay = d
	return r
}

// Hangup closes the connection after the request was received, unanswered.
func Hangup() Response { return Response{Hangup: true} }
