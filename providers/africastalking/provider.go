package africastalking

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/openimis/imis-gateway/providers"
)

// Provider is Africa's Talking as the gateway serves it: USSD hops and
// end-of-session notifications, inbound SMS and delivery reports, and SMS
// sending.
var Provider = providers.Provider{
	Name:      Name,
	EnvPrefix: "AT_",
	Title:     "Africa's Talking",
	USSD: &providers.USSD{
		Routes: []providers.HTTPRoute{
			{Method: http.MethodPost, Pattern: "/", Kind: providers.RouteHop},
			{Method: http.MethodPost, Pattern: "/events", Kind: providers.RouteSessionEnd},
		},
		Parse:        ParseHop,
		Render:       func(_ providers.Hop, rep providers.Reply) []byte { return Body(rep) },
		ContentType:  textType,
		ParseEnd:     parseSessionEnd,
		CallbackNote: func(url string) string { return "(events: " + url + "/events)" },
		TryHop: func(url string) string {
			return "curl -s -d sessionId=demo-1 -d serviceCode='*384*1234#' --data-urlencode phoneNumber=+255712111222 -d text= " + url
		},
		Client: providers.Client{Hop: clientHop, Hangup: clientHangup, Read: readReply},
	},
	SMS: &providers.SMS{
		Routes: []providers.HTTPRoute{
			{Method: http.MethodPost, Pattern: "/inbound", Kind: providers.RouteInboundSMS},
			{Method: http.MethodPost, Pattern: "/delivery", Kind: providers.RouteDeliveryReport},
		},
		ParseInbound:  parseInbound,
		ParseDelivery: parseDelivery,
		Settings:      smsSettings,
		Help: [][2]string{
			{"AT_USERNAME, AT_API_KEY", "Africa's Talking credentials for sending SMS (\"sandbox\" selects the sandbox); unset: SMS stay queued"},
			{"AT_SENDER_ID", "registered sender id or short code for outgoing SMS (default: AT's shared sender)"},
			{"AT_API_URL", "Africa's Talking API base URL (default: the live or sandbox endpoint)"},
		},
	},
}

// parseSessionEnd reads an end-of-session notification for the gateway.
func parseSessionEnd(r *http.Request) (providers.SessionEnd, error) {
	ev, err := ParseSessionEvent(r)
	if err != nil {
		return providers.SessionEnd{}, err
	}
	return providers.SessionEnd{SessionID: ev.SessionID, Phone: ev.Phone, Status: ev.Status, Hops: ev.HopsCount,
		Error: ev.ErrorMessage}, nil
}

func parseInbound(r *http.Request) (providers.InboundSMS, error) {
	m, err := ParseInboundSMS(r)
	return m.InboundSMS, err
}

func parseDelivery(r *http.Request) (providers.DeliveryReport, error) {
	d, err := ParseDeliveryReport(r)
	if err != nil {
		return providers.DeliveryReport{}, err
	}
	return providers.DeliveryReport{Provider: Name, MessageID: d.ID, State: string(d.State),
		RawStatus: d.Status, Reason: d.FailureReason, Phone: d.Phone}, nil
}

// smsSettings makes the SMS client. One without credentials is still made:
// it reports itself unconfigured, and its messages stay queued.
func smsSettings(getenv func(string) string, _ string) (providers.SMSSettings, []string) {
	c := NewSMSClient(SMSConfig{Username: getenv("AT_USERNAME"), APIKey: getenv("AT_API_KEY"),
		SenderID: getenv("AT_SENDER_ID"), BaseURL: getenv("AT_API_URL")})
	s := providers.SMSSettings{Sender: c}
	if !c.Configured() {
		s.Warning = "Africa's Talking SMS sending is not configured (AT_USERNAME, AT_API_KEY): SMS stay queued in imis_gateway.outbox"
	}
	return s, nil
}

// The aggregator's side of the wire, for the simulators.

// clientHop posts the session's whole transcript, as AT does on every hop.
func clientHop(c providers.Call) (providers.Request, error) {
	return formRequest(c.URL, url.Values{"sessionId": {c.Session}, "serviceCode": {c.ServiceCode},
		"phoneNumber": {c.MSISDN}, "networkCode": {"99999"}, "text": {c.Transcript}}), nil
}

// clientHangup posts the end-of-session notification of a session that
// ended well.
func clientHangup(c providers.Call) (providers.Request, error) {
	return formRequest(c.URL+"/events", url.Values{"sessionId": {c.Session}, "serviceCode": {c.ServiceCode},
		"phoneNumber": {c.MSISDN}, "status": {StatusSuccess}, "input": {c.Transcript}}), nil
}

func formRequest(url string, form url.Values) providers.Request {
	return providers.Request{Method: http.MethodPost, URL: url, ContentType: formType, Body: []byte(form.Encode())}
}

// readReply reads "CON ..." (waiting for input) or "END ..." (closed).
func readReply(body []byte) (providers.Reply, error) {
	text := string(body)
	switch {
	case strings.HasPrefix(text, "CON "):
		return providers.Reply{Text: text[4:]}, nil
	case strings.HasPrefix(text, "END "):
		return providers.Reply{Text: text[4:], End: true}, nil
	}
	return providers.Reply{}, fmt.Errorf("malformed reply %q", text)
}
