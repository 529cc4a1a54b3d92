// Package twilio speaks Twilio Messaging webhooks (SMS only; Twilio has no
// USSD, docs/providers.md, "Twilio signatures"): it parses the inbound-message webhook and the
// status callback, renders TwiML replies, and validates X-Twilio-Signature.
//
// Every webhook is a form POST. The gateway must call ValidateSignature before
// parsing; it buffers the body and puts it back, so the parsers still read it.
package twilio

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Name identifies the provider in routes and metrics.
const Name = "twilio"

// ContentType is the Content-Type of TwiML replies.
const ContentType = "text/xml; charset=utf-8"

const formType = "application/x-www-form-urlencoded"

// Inbound is one inbound SMS: the provider-neutral message and what only
// Twilio says about it.
type Inbound struct {
	providers.InboundSMS
	AccountSID          string // the account the message was sent to; the gateway may check it is its own
	MessagingServiceSID string // set when the number belongs to a Messaging Service
	NumSegments         int    // parts the sender's handset sent; Twilio reassembles them into Text
	NumMedia            int    // MMS attachments, which the gateway ignores
}

// Upper bounds on identifiers: Twilio SIDs are 34 characters, addresses are
// E.164 numbers or channel addresses ("whatsapp:+14155238886").
const (
	maxSID     = 64
	maxAddress = 64
	maxStatus  = 32
)

// ParseInbound reads Twilio's inbound-message webhook: a form POST with
// MessageSid (or the legacy SmsMessageSid / SmsSid), AccountSid, From, To and
// Body, plus MessagingServiceSid, NumSegments, NumMedia and fields the gateway
// ignores (FromCountry, ApiVersion, ...; Twilio adds fields without notice).
// Body may be empty (an MMS without text). Received stays zero: Twilio sends
// no timestamp.
//
// A request that cannot come from Twilio returns an error wrapping
// providers.ErrMalformed (a field the gateway reads that is repeated or not
// valid UTF-8 included); a body cut short by http.MaxBytesReader one in which
// errors.As finds the *http.MaxBytesError. The body is put back after reading.
func ParseInbound(r *http.Request) (Inbound, error) {
	f, err := readForm(r)
	if err != nil {
		return Inbound{}, err
	}
	in := Inbound{InboundSMS: providers.InboundSMS{Provider: Name}}
	if in.MessageID, err = f.sid("MessageSid", "SmsMessageSid", "SmsSid"); err != nil {
		return Inbound{}, err
	}
	if in.AccountSID, err = f.identifier("AccountSid", maxSID, true); err != nil {
		return Inbound{}, err
	}
	if in.MessagingServiceSID, err = f.identifier("MessagingServiceSid", maxSID, false); err != nil {
		return Inbound{}, err
	}
	if in.From, err = f.identifier("From", maxAddress, true); err != nil {
		return Inbound{}, err
	}
	if in.To, err = f.identifier("To", maxAddress, true); err != nil {
		return Inbound{}, err
	}
	if in.Text, err = f.get("Body"); err != nil {
		return Inbound{}, err
	}
	if in.NumSegments, err = f.count("NumSegments"); err != nil {
		return Inbound{}, err
	}
	if in.NumMedia, err = f.count("NumMedia"); err != nil {
		return Inbound{}, err
	}
	return in, nil
}

// Status is a status callback for a message the gateway sent.
type Status struct {
	MessageID  string // the SID Twilio returned when the message was sent
	AccountSID string
	// Status is MessageStatus as sent: "queued", "sending", "sent",
	// "delivered", "undelivered", "failed", "read", ... Unknown values are
	// kept, never refused (docs/providers.md, "Africa's Talking delivery reports"'s rule for AT applies here too).
	Status    string
	ErrorCode string // e.g. "30003" unreachable, "21610" unsubscribed; empty on success
	From      string
	To        string
}

// deliveryStates maps MessageStatus onto the outbox's words. Statuses not
// listed ("read", "partially_delivered", what Twilio adds next) map to "":
// stored raw, the message left as it is.
var deliveryStates = map[string]string{
	"queued":      "sent",
	"accepted":    "sent",
	"scheduled":   "sent",
	"sending":     "sent",
	"sent":        "sent",
	"delivered":   "delivered",
	"undelivered": "failed",
	"failed":      "failed",
	"canceled":    "failed",
}

// errorTexts names the error codes status callbacks carry most often, for
// people reading the outbox.
var errorTexts = map[string]string{
	"21610": "unsubscribed recipient (replied STOP)",
	"30001": "queue overflow",
	"30002": "account suspended",
	"30003": "unreachable destination handset",
	"30004": "message blocked",
	"30005": "unknown destination handset",
	"30006": "landline or unreachable carrier",
	"30007": "message filtered by the carrier",
	"30008": "unknown error",
}

// State is the status in the outbox's words ("sent", "delivered", "failed"),
// "" for one the gateway does not know.
func (s Status) State() string { return deliveryStates[strings.ToLower(s.Status)] }

// Reason names the error code for people reading the outbox; "" without one.
func (s Status) Reason() string {
	if s.ErrorCode == "" {
		return ""
	}
	reason := "Twilio error " + s.ErrorCode
	if text := errorTexts[s.ErrorCode]; text != "" {
		reason += ": " + text
	}
	return reason
}

// ParseStatus reads a status callback: a form POST with MessageSid (or
// SmsSid), MessageStatus (or the legacy SmsStatus), AccountSid, and optionally
// ErrorCode, From and To. Errors are as for ParseInbound.
func ParseStatus(r *http.Request) (Status, error) {
	f, err := readForm(r)
	if err != nil {
		return Status{}, err
	}
	var st Status
	if st.MessageID, err = f.sid("MessageSid", "SmsSid"); err != nil {
		return Status{}, err
	}
	if st.AccountSID, err = f.identifier("AccountSid", maxSID, true); err != nil {
		return Status{}, err
	}
	if st.Status, err = f.identifier("MessageStatus", maxStatus, false); err != nil {
		return Status{}, err
	}
	if st.Status == "" {
		if st.Status, err = f.identifier("SmsStatus", maxStatus, true); err != nil {
			return Status{}, fmt.Errorf("%w (MessageStatus)", err)
		}
	}
	if st.ErrorCode, err = f.identifier("ErrorCode", maxStatus, false); err != nil {
		return Status{}, err
	}
	if st.From, err = f.identifier("From", maxAddress, false); err != nil {
		return Status{}, err
	}
	if st.To, err = f.identifier("To", maxAddress, false); err != nil {
		return Status{}, err
	}
	return st, nil
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>`

// TwiML renders a reply to an inbound message: one <Message> with the text,
// trimmed and XML-escaped (characters XML cannot carry become U+FFFD), or an
// empty <Response/> when there is nothing to say. Answer it with 200 and
// ContentType.
func TwiML(reply string) []byte {
	reply = strings.TrimSpace(reply)
	if reply == "" {
		return []byte(xmlHeader + "<Response/>")
	}
	var b bytes.Buffer
	b.Grow(len(xmlHeader) + len(reply) + 40)
	b.WriteString(xmlHeader + "<Response><Message>")
	_ = xml.EscapeText(&b, []byte(reply)) // a bytes.Buffer never fails
	b.WriteString("</Message></Response>")
	return b.Bytes()
}

// WriteTwiML answers a webhook with TwiML(reply).
func WriteTwiML(w http.ResponseWriter, reply string) {
	wire.Write(w, ContentType, TwiML(reply))
}

// form is a decoded webhook body.
type form url.Values

// readForm reads a form POST's body, puts it back for whoever reads next, and
// decodes it as url.ParseQuery does (which keeps a repeated name's values in
// received order, and refuses ';' separators and bad escapes).
func readForm(r *http.Request) (form, error) {
	if r.Method != http.MethodPost {
		return nil, wire.Malformed("method %s, want POST", r.Method)
	}
	if err := wire.CheckContentType(r, formType); err != nil {
		return nil, err
	}
	body, err := bufferBody(r)
	if err != nil {
		return nil, err
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, wire.Malformed("form body: %v", err)
	}
	return form(vals), nil
}

// bufferBody reads the whole body and replaces it with a reader over the same
// bytes, so that reading it twice (signature, then parse) sees it twice. A
// body cut short by http.MaxBytesReader returns an error wrapping the
// *http.MaxBytesError.
func bufferBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := wire.ReadBody(r)
	if err != nil {
		return nil, err
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// get returns a field's value, "" when absent, refusing a repeated field and
// invalid UTF-8.
func (f form) get(key string) (string, error) {
	vs := f[key]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", wire.Malformed("repeated %s", key)
	case !utf8.ValidString(vs[0]):
		return "", wire.Malformed("%s is not valid UTF-8", key)
	}
	return vs[0], nil
}

// identifier returns a trimmed field that ends up in logs and keys: bounded,
// free of control characters.
func (f form) identifier(key string, limit int, required bool) (string, error) {
	v, err := f.get(key)
	if err != nil {
		return "", err
	}
	return wire.Identifier(key, v, limit, required)
}

// sid returns the first of keys present: Twilio sends MessageSid and, for
// older integrations, the same value as SmsMessageSid or SmsSid.
func (f form) sid(keys ...string) (string, error) {
	for _, k := range keys {
		v, err := f.identifier(k, maxSID, false)
		if err != nil || v != "" {
			return v, err
		}
	}
	return "", wire.Malformed("missing %s", keys[0])
}

// count returns a non-negative count; absent or unparsable is 0: the counts
// only inform.
func (f form) count(key string) (int, error) {
	v, err := f.get(key)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 16)
	if err != nil {
		return 0, nil
	}
	return int(n), nil
}
