// Package attest is a fake of Africa's Talking's SMS API for tests: a local
// HTTP server that answers POST /version1/messaging as AT does
// (docs/providers.md, "Africa's Talking SMS sending API"), in every case the gateway must handle, and records
// each request it got.
//
// By default every send is accepted (201, statusCode 101) with a fresh
// messageId. Tests script other answers with Enqueue (the next requests, in
// order) or Respond (every request).
package attest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/providers/internal/fakeapi"
)

// Request is one request the fake received.
type Request = fakeapi.Request

// Response is how the fake answers one request. A Delay stands for a
// request AT took but answered too late.
type Response = fakeapi.Response

// Server is the fake API. Its URL is the AT_API_URL to give the client.
// Respond, Enqueue, EnqueueAccept, Requests, Count and Received script and
// inspect it as they do every provider's fake.
type Server struct {
	*fakeapi.Server[Request]
}

// New starts a fake that accepts every message, closed when the test ends.
func New(t testing.TB) *Server {
	return &Server{fakeapi.New(t, fakeapi.API[Request]{
		Record: func(_ *http.Request, req Request) Request { return req },
		Refuse: refuse,
		// The n-th acceptance carries MessageID(n), so that tests can
		// name the message each request became.
		Accept:      func(req Request, n int) Response { return Accepted(req.Form.Get("to"), MessageID(n)) },
		ContentType: "application/json",
	})}
}

// MessageID is the messageId the default answer gives the n-th request
// (counting from 1).
func MessageID(n int) string { return fmt.Sprintf("ATXid_fake%06d", n) }

// refuse answers 404 to anything but a send, as http.Error would: the fake
// serves nothing else.
func refuse(req Request) (Response, bool) {
	if req.Method == http.MethodPost && req.Path == "/version1/messaging" {
		return Response{}, false
	}
	return Response{Status: http.StatusNotFound, ContentType: "text/plain; charset=utf-8",
		Header: map[string]string{"X-Content-Type-Options": "nosniff"}, Body: "not found\n"}, true
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

// Accepted is AT's answer for a message sent (docs/providers.md, "Africa's Talking SMS sending API").
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
