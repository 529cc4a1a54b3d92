package main

// What the chaos run knows of the registry's default wire, Africa's
// Talking, the one that carries both USSD and SMS: it dials with its
// accumulated transcript, sends SMS through its inbound webhook, and fakes
// its SMS sending API (docs/providers.md, "Africa's Talking SMS sending API").

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/registry"
)

// smsWire sends the run's SMS, and its USSD hops carry the whole transcript.
var smsWire = sync.OnceValue(func() providers.Provider {
	p := registry.Default()
	if p.SMS == nil || p.USSD == nil {
		panic("the registry's default wire " + p.Name + " no longer carries SMS: the chaos run fakes its SMS API")
	}
	return p
})

// smsSendingEnv points the gateways' SMS sending at the fake API on base.
func smsSendingEnv(base string) []string {
	prefix := smsWire().EnvPrefix
	return []string{prefix + "USERNAME=chaos", prefix + "API_KEY=chaos-key", prefix + "API_URL=" + base}
}

// inboundSMSRequest is the request the SMS wire makes for an SMS a
// subscriber sent: a form POST to the inbound callback.
func inboundSMSRequest(base, from, text, id string) (target string, form url.Values) {
	return base + providers.SMSPath(smsWire().Name, token) + "/inbound", url.Values{
		"from": {from}, "to": {"15000"}, "text": {text}, "id": {id},
		"date": {time.Now().UTC().Format(time.DateTime)}}
}

// sentSMS is one message the fake SMS API accepted.
type sentSMS struct {
	to, message string
	at          time.Time
}

// fakeSMSAPI stands for the SMS wire's sending API: it accepts every
// message, as the tests' fake (attest) does by default, and records it.
type fakeSMSAPI struct {
	srv  *http.Server
	mu   sync.Mutex
	sent []sentSMS
}

func startFakeSMSAPI(port int) (*fakeSMSAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("fake SMS API: %w", err)
	}
	f := &fakeSMSAPI{}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	go f.srv.Serve(ln) //nolint:errcheck // ends with Close
	return f, nil
}

func (f *fakeSMSAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/version1/messaging" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	to := r.PostForm.Get("to")
	f.mu.Lock()
	f.sent = append(f.sent, sentSMS{to: to, message: r.PostForm.Get("message"), at: time.Now()})
	n := len(f.sent)
	f.mu.Unlock()
	// The API's acceptance of one recipient, with a fresh messageId.
	type recipient struct {
		StatusCode int    `json:"statusCode"`
		Number     string `json:"number"`
		Status     string `json:"status"`
		Cost       string `json:"cost"`
		MessageID  string `json:"messageId"`
	}
	var answer struct {
		SMSMessageData struct {
			Message    string
			Recipients []recipient
		}
	}
	answer.SMSMessageData.Message = "Sent to 1/1 Total Cost: KES 0.8000"
	answer.SMSMessageData.Recipients = []recipient{{StatusCode: 101, Number: to, Status: "Success", Cost: "KES 0.8000",
		MessageID: fmt.Sprintf("chaos-%06d", n)}}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(answer) //nolint:errcheck
}

// log returns a copy of what was sent so far.
func (f *fakeSMSAPI) log() []sentSMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentSMS(nil), f.sent...)
}
