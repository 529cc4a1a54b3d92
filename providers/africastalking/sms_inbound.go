package africastalking

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/smsapi"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Upper bounds on SMS callback fields. AT documents none: message ids are
// UUID-like (36 bytes), link ids a little longer; these keep attacker-sized
// strings out of keys, rows and log lines.
const (
	maxMessageID = 128
	maxSMSPhone  = 32 // a sender or short code, with room for odd formats
	maxLinkID    = 256
	maxStatus    = 64
	maxReasonDLR = 128
	maxCost      = 32
)

// InboundSMS is an SMS a user sent to our short code or long number
// (docs/providers.md, "Africa's Talking inbound SMS"): the provider-neutral message, whose MessageID is AT's
// id (the idempotency key: AT retries for 12 hours) and whose Received is
// AT's date, plus what only AT sends.
type InboundSMS struct {
	providers.InboundSMS
	LinkID  string // set for on-demand premium messages only
	Network string // MCC+MNC, when sent
	Cost    string // as sent, when sent
}

// The two date layouts AT sends, both UTC (docs/providers.md, "Africa's Talking inbound SMS").
const (
	smsDateISO   = "2006-01-02T15:04:05Z"
	smsDatePlain = "2006-01-02 15:04:05"
)

// ParseInboundSMS reads AT's incoming-message callback: a form with from,
// to, text, date, id, linkId and networkCode (and cost). id and from are
// required.
//
// Everything else is read tolerantly, because a refused callback is retried
// by AT every minute for 12 hours (docs/providers.md, "Africa's Talking inbound SMS") and a user's message
// deserves an answer: a date in neither layout becomes zero (the caller
// records its own receipt time), NUL bytes, which PostgreSQL text cannot
// hold, are dropped from the text. Errors wrap providers.ErrMalformed, or
// are *http.MaxBytesError, as in ParseHop.
func ParseInboundSMS(r *http.Request) (InboundSMS, error) {
	var m InboundSMS
	var date string
	err := readForm(r, []formField{
		{key: "from", dst: &m.From},
		{key: "to", dst: &m.To},
		{key: "text", dst: &m.Text},
		{key: "date", dst: &date},
		{key: "id", dst: &m.MessageID},
		{key: "linkId", dst: &m.LinkID},
		{key: "networkCode", dst: &m.Network},
		{key: "cost", dst: &m.Cost},
	})
	if err != nil {
		return InboundSMS{}, err
	}
	if m.MessageID, err = wire.Identifier("id", m.MessageID, maxMessageID, true); err != nil {
		return InboundSMS{}, err
	}
	if m.From, err = wire.Identifier("from", restorePlus(m.From), maxSMSPhone, true); err != nil {
		return InboundSMS{}, err
	}
	if m.To, err = wire.Identifier("to", restorePlus(m.To), maxSMSPhone, false); err != nil {
		return InboundSMS{}, err
	}
	if m.LinkID, err = wire.Identifier("linkId", m.LinkID, maxLinkID, false); err != nil {
		return InboundSMS{}, err
	}
	if m.Network, err = wire.Identifier("networkCode", m.Network, maxNetworkCode, false); err != nil {
		return InboundSMS{}, err
	}
	m.Provider = Name
	m.Cost = smsapi.Clean(m.Cost, maxCost)
	m.Text = strings.ReplaceAll(m.Text, "\x00", "")
	m.Received = parseSMSDate(date)
	return m, nil
}

func parseSMSDate(v string) time.Time {
	v = strings.TrimSpace(v)
	for _, layout := range []string{smsDateISO, smsDatePlain, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// DeliveryState is what a delivery report says about a sent message, in the
// outbox's words. The zero value is a status we do not know: keep the
// message's current state and store the raw status.
type DeliveryState string

const (
	DeliveryUnknown   DeliveryState = ""
	DeliverySent      DeliveryState = "sent"      // on its way: Sent, Submitted, Buffered
	DeliveryDelivered DeliveryState = "delivered" // on the handset: Success
	DeliveryFailed    DeliveryState = "failed"    // final: Rejected, Failed, Expired, AbsentSubscriber
)

// deliveryStates maps AT's report statuses (docs/providers.md, "Africa's Talking delivery reports"), as courier
// does, plus the AbsentSubscriber and Expired of the current docs.
var deliveryStates = map[string]DeliveryState{
	"success":          DeliveryDelivered,
	"sent":             DeliverySent,
	"submitted":        DeliverySent,
	"buffered":         DeliverySent,
	"rejected":         DeliveryFailed,
	"failed":           DeliveryFailed,
	"expired":          DeliveryFailed,
	"absentsubscriber": DeliveryFailed,
}

// DeliveryStateOf maps one of AT's report statuses; unknown ones, which AT's
// growing list will bring, give DeliveryUnknown.
func DeliveryStateOf(status string) DeliveryState {
	return deliveryStates[strings.ToLower(strings.TrimSpace(status))]
}

// DeliveryReport is AT's delivery report for one message (docs/providers.md, "Africa's Talking delivery reports").
type DeliveryReport struct {
	ID            string        // the messageId the send returned
	Status        string        // raw, as sent ("Success", "Buffered", or one we do not know)
	State         DeliveryState // Status mapped; DeliveryUnknown for unknown statuses
	Phone         string
	Network       string
	FailureReason string // only with Rejected/Failed, and not from every telco
	RetryCount    int    // premium SMS only
}

// ParseDeliveryReport reads a delivery report form: id, status,
// phoneNumber, networkCode, failureReason, retryCount. id and status are
// required. An unknown status is no error (courier's 400 for one is too
// strict, docs/providers.md, "Africa's Talking delivery reports"): it is kept raw with State DeliveryUnknown.
// Over-long status and failureReason values are cut, not refused.
func ParseDeliveryReport(r *http.Request) (DeliveryReport, error) {
	var d DeliveryReport
	var retries string
	err := readForm(r, []formField{
		{key: "id", dst: &d.ID},
		{key: "status", dst: &d.Status},
		{key: "phoneNumber", dst: &d.Phone},
		{key: "networkCode", dst: &d.Network},
		{key: "failureReason", dst: &d.FailureReason},
		{key: "retryCount", dst: &retries},
	})
	if err != nil {
		return DeliveryReport{}, err
	}
	if d.ID, err = wire.Identifier("id", d.ID, maxMessageID, true); err != nil {
		return DeliveryReport{}, err
	}
	if d.Status = smsapi.Clean(d.Status, maxStatus); d.Status == "" {
		return DeliveryReport{}, fmt.Errorf("%w: missing status", providers.ErrMalformed)
	}
	d.State = DeliveryStateOf(d.Status)
	d.Phone = smsapi.Clean(restorePlus(d.Phone), maxSMSPhone)
	d.Network = smsapi.Clean(d.Network, maxNetworkCode)
	d.FailureReason = smsapi.Clean(d.FailureReason, maxReasonDLR)
	d.RetryCount = int(count(retries, 31))
	return d, nil
}
