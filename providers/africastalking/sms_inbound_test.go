package africastalking

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
)

const fixtureSMSID = "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3"

func atInbound(text string, date time.Time) InboundSMS {
	return InboundSMS{
		InboundSMS: providers.InboundSMS{
			Provider:  Name,
			MessageID: fixtureSMSID,
			From:      "+255712345678",
			To:        "15522",
			Text:      text,
			Received:  date,
		},
		Network: "64004",
	}
}

var (
	fixtureDate = time.Date(2017, 5, 3, 6, 4, 45, 0, time.UTC)
	inboundBase = "from=%2B255712345678&to=15522&id=" + fixtureSMSID + "&networkCode=64004"
)

type inboundCase struct {
	label   string
	ct      string
	body    string
	limit   int64
	status  int
	errText string
	msg     InboundSMS
}

var inboundCases = []inboundCase{
	{
		label:  "ISO date (docs/providers.md)",
		ct:     formType,
		body:   inboundBase + "&text=RENEW+TZ1234567+15000+R-88812&date=2017-05-03T06%3A04%3A45Z&linkId=",
		status: 200,
		msg:    atInbound("RENEW TZ1234567 15000 R-88812", fixtureDate),
	},
	{
		label:  "plain date",
		ct:     formType,
		body:   inboundBase + "&text=CHECK+TZ1234567&date=2017-05-03+06%3A04%3A45",
		status: 200,
		msg:    atInbound("CHECK TZ1234567", fixtureDate),
	},
	{
		label:  "charset in content type, linkId and cost",
		ct:     formType + "; charset=utf-8",
		body:   inboundBase + "&text=help&date=2017-05-03T06%3A04%3A45Z&linkId=SampleLinkId123&cost=TZS+0.00",
		status: 200,
		msg: func() InboundSMS {
			m := atInbound("help", fixtureDate)
			m.LinkID, m.Cost = "SampleLinkId123", "TZS 0.00"
			return m
		}(),
	},
	{
		label:  "unencoded plus in from",
		ct:     formType,
		body:   "from=+255712345678&to=15522&id=" + fixtureSMSID + "&networkCode=64004&text=HELP&date=2017-05-03T06:04:45Z",
		status: 200,
		msg:    atInbound("HELP", fixtureDate),
	},
	{
		label:  "Swahili and Nepali text",
		ct:     formType,
		body:   inboundBase + "&text=" + url.QueryEscape("LANG sw – habari ’ नमस्ते") + "&date=2017-05-03T06:04:45Z",
		status: 200,
		msg:    atInbound("LANG sw – habari ’ नमस्ते", fixtureDate),
	},
	{
		label:  "empty text is a message",
		ct:     formType,
		body:   inboundBase + "&text=&date=2017-05-03T06:04:45Z",
		status: 200,
		msg:    atInbound("", fixtureDate),
	},
	{
		label:  "no date",
		ct:     formType,
		body:   inboundBase + "&text=HELP",
		status: 200,
		msg:    atInbound("HELP", time.Time{}),
	},
	{
		label:  "unparsable date is tolerated",
		ct:     formType,
		body:   inboundBase + "&text=HELP&date=03%2F05%2F2017",
		status: 200,
		msg:    atInbound("HELP", time.Time{}),
	},
	{
		label:  "NUL dropped from text",
		ct:     formType,
		body:   inboundBase + "&text=HE%00LP&date=2017-05-03T06:04:45Z",
		status: 200,
		msg:    atInbound("HELP", fixtureDate),
	},
	{label: "missing id", ct: formType, body: "from=%2B255712345678&text=HELP", status: 400, errText: "missing id"},
	{label: "blank id", ct: formType, body: "id=+&from=%2B255712345678&text=HELP", status: 400, errText: "missing id"},
	{label: "missing from", ct: formType, body: "id=" + fixtureSMSID + "&text=HELP", status: 400, errText: "missing from"},
	{label: "empty body", ct: formType, body: "", status: 400, errText: "missing id"},
	{label: "JSON body", ct: "application/json", body: `{"id":"x","from":"+255712345678"}`, status: 400, errText: "content type"},
	{label: "repeated id", ct: formType, body: inboundBase + "&id=other", status: 400, errText: "repeated id"},
	{label: "control character in id", ct: formType, body: "id=a%0Ab&from=%2B255712345678", status: 400, errText: "control character"},
	{label: "huge from", ct: formType, body: "id=x&from=" + strings.Repeat("1", 40), status: 400, errText: "from longer"},
	{label: "invalid UTF-8 text", ct: formType, body: inboundBase + "&text=%FF", status: 400, errText: "UTF-8"},
	{label: "bad escape", ct: formType, body: inboundBase + "&text=%G1", status: 400, errText: "escape"},
	{label: "body over the limit", ct: formType, body: inboundBase + "&text=" + strings.Repeat("a", 2000), limit: 512, status: 413},
}

func TestParseInboundSMS(t *testing.T) {
	for _, tc := range inboundCases {
		t.Run(tc.label, func(t *testing.T) {
			m, err := ParseInboundSMS(pt.NewRequest(http.MethodPost, "/sms/africastalking/tok/inbound", tc.ct, tc.body, tc.limit))
			pt.CheckParsed(t, "message", m, err, tc.status, tc.errText, tc.msg)
		})
	}
}

type dlrCase struct {
	label   string
	body    string
	status  int
	errText string
	report  DeliveryReport
}

func dlrBody(status, reason string) string {
	v := url.Values{
		"id":          {"ATXid_03cb5ecf11ce748794c0f9a85c276259"},
		"status":      {status},
		"phoneNumber": {"+255712345678"},
		"networkCode": {"64004"},
	}
	if reason != "" {
		v.Set("failureReason", reason)
	}
	return v.Encode()
}

func dlr(status string, state DeliveryState, reason string) DeliveryReport {
	return DeliveryReport{ID: "ATXid_03cb5ecf11ce748794c0f9a85c276259", Status: status, State: state,
		Phone: "+255712345678", Network: "64004", FailureReason: reason}
}

var dlrCases = []dlrCase{
	{label: "Success", body: dlrBody("Success", ""), status: 200, report: dlr("Success", DeliveryDelivered, "")},
	{label: "Sent", body: dlrBody("Sent", ""), status: 200, report: dlr("Sent", DeliverySent, "")},
	{label: "Submitted", body: dlrBody("Submitted", ""), status: 200, report: dlr("Submitted", DeliverySent, "")},
	{label: "Buffered", body: dlrBody("Buffered", ""), status: 200, report: dlr("Buffered", DeliverySent, "")},
	{label: "Rejected with reason", body: dlrBody("Rejected", "UserInBlackList"), status: 200,
		report: dlr("Rejected", DeliveryFailed, "UserInBlackList")},
	{label: "Failed with reason", body: dlrBody("Failed", "InsufficientCredit"), status: 200,
		report: dlr("Failed", DeliveryFailed, "InsufficientCredit")},
	{label: "Failed DoNotDisturbRejection", body: dlrBody("Failed", "DoNotDisturbRejection"), status: 200,
		report: dlr("Failed", DeliveryFailed, "DoNotDisturbRejection")},
	{label: "Expired", body: dlrBody("Expired", ""), status: 200, report: dlr("Expired", DeliveryFailed, "")},
	{label: "AbsentSubscriber", body: dlrBody("AbsentSubscriber", ""), status: 200, report: dlr("AbsentSubscriber", DeliveryFailed, "")},
	{label: "made-up status kept raw", body: dlrBody("QuantumEntangled", ""), status: 200,
		report: dlr("QuantumEntangled", DeliveryUnknown, "")},
	{label: "lower-case status", body: dlrBody("success", ""), status: 200, report: dlr("success", DeliveryDelivered, "")},
	{
		label: "premium retryCount, unencoded plus",
		body: "id=ATXid_03cb5ecf11ce748794c0f9a85c276259&status=Failed&phoneNumber=+255712345678&networkCode=64004" +
			"&failureReason=NotNetworkSubcriber&retryCount=3",
		status: 200,
		report: func() DeliveryReport {
			d := dlr("Failed", DeliveryFailed, "NotNetworkSubcriber")
			d.RetryCount = 3
			return d
		}(),
	},
	{label: "only id and status", body: "id=ATXid_1&status=Sent", status: 200,
		report: DeliveryReport{ID: "ATXid_1", Status: "Sent", State: DeliverySent}},
	{label: "garbage retryCount", body: "id=ATXid_1&status=Sent&retryCount=-4", status: 200,
		report: DeliveryReport{ID: "ATXid_1", Status: "Sent", State: DeliverySent}},
	{label: "over-long status is cut", body: "id=ATXid_1&status=" + strings.Repeat("S", 300), status: 200,
		report: DeliveryReport{ID: "ATXid_1", Status: strings.Repeat("S", maxStatus)}},
	{label: "missing id", body: "status=Success", status: 400, errText: "missing id"},
	{label: "missing status", body: "id=ATXid_1", status: 400, errText: "missing status"},
	{label: "blank status", body: "id=ATXid_1&status=%20", status: 400, errText: "missing status"},
	{label: "repeated status", body: "id=ATXid_1&status=Sent&status=Success", status: 400, errText: "repeated status"},
}

func TestParseDeliveryReport(t *testing.T) {
	for _, tc := range dlrCases {
		t.Run(tc.label, func(t *testing.T) {
			d, err := ParseDeliveryReport(pt.NewRequest(http.MethodPost, "/sms/africastalking/tok/delivery", formType, tc.body, 0))
			pt.CheckParsed(t, "report", d, err, tc.status, tc.errText, tc.report)
		})
	}
}

func TestParseDeliveryReportWrongContentType(t *testing.T) {
	_, err := ParseDeliveryReport(pt.NewRequest(http.MethodPost, "/", "text/plain", dlrBody("Success", ""), 0))
	if !errors.Is(err, providers.ErrMalformed) {
		t.Fatalf("err %v", err)
	}
}

func FuzzParseInboundSMS(f *testing.F) {
	for _, tc := range inboundCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseInboundSMS(pt.NewRequest(http.MethodPost, "/sms/africastalking/tok/inbound", formType, string(body), 0))
		if pt.Refused(t, err) {
			return
		}
		if m.MessageID == "" || m.From == "" || len(m.MessageID) > maxMessageID || len(m.From) > maxSMSPhone ||
			len(m.To) > maxSMSPhone || len(m.Network) > maxNetworkCode || len(m.LinkID) > maxLinkID || len(m.Cost) > maxCost {
			t.Errorf("fields %+v", m)
		}
		if m.Provider != Name {
			t.Errorf("provider %q", m.Provider)
		}
		pt.Storable(t, m.MessageID, m.From, m.To, m.Text, m.LinkID, m.Network, m.Cost)
		if !m.Received.IsZero() && m.Received.Location() != time.UTC {
			t.Errorf("Received %v not UTC", m.Received)
		}
		vals := pt.FormValues(t, body)
		if got := strings.ReplaceAll(vals.Get("text"), "\x00", ""); got != m.Text {
			t.Errorf("text %q, url.ParseQuery %q", m.Text, got)
		}
	})
}

func FuzzParseDeliveryReport(f *testing.F) {
	for _, tc := range dlrCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ParseDeliveryReport(pt.NewRequest(http.MethodPost, "/sms/africastalking/tok/delivery", formType, string(body), 0))
		if pt.Refused(t, err) {
			return
		}
		if d.ID == "" || d.Status == "" || len(d.ID) > maxMessageID || len(d.Status) > maxStatus ||
			len(d.FailureReason) > maxReasonDLR || d.RetryCount < 0 {
			t.Errorf("report %+v", d)
		}
		switch d.State {
		case DeliveryUnknown, DeliverySent, DeliveryDelivered, DeliveryFailed:
		default:
			t.Errorf("state %q", d.State)
		}
		if d.State != DeliveryStateOf(d.Status) {
			t.Errorf("state %q for status %q", d.State, d.Status)
		}
		pt.Storable(t, d.ID, d.Status, d.Phone, d.Network, d.FailureReason)
		pt.FormValues(t, body)
	})
}
