package africastalking

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
)

const fixtureSession = "ATUid_5d3b4c2bc589f4811820a7184eed4df5"

// atHop is the hop the fixture request of docs/providers.md, "Africa's Talking USSD hop" parses to, with
// the given transcript.
func atHop(text string) providers.Hop {
	return providers.Hop{
		Provider:    Name,
		SessionID:   fixtureSession,
		Phone:       "+255712345678",
		ServiceCode: "*384*1234#",
		Network:     "64004",
		Text:        text,
		Accumulated: true,
		ReplayKey:   "t:" + text,
	}
}

var digits5000 = strings.Repeat("7", 5000)

var hopCases = []pt.HopCase{
	{
		Label:  "first hop, empty text",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status: 200,
		Hop:    atHop(""),
	},
	{
		Label:  "first hop, no text field",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004",
		Status: 200,
		Hop:    atHop(""),
	},
	{
		Label:  "second hop",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1",
		Status: 200,
		Hop:    atHop("1"),
	},
	{
		Label:  "third hop, insurance number typed",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A12345678",
		Status: 200,
		Hop:    atHop("1*12345678"),
	},
	{
		Label:  "'*' typed inside free text stays in the transcript",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=3%2A12345678%2ARC%2A42",
		Status: 200,
		Hop:    atHop("3*12345678*RC*42"),
	},
	{
		Label:  "pre-dialled route *384*1234*2*12345678#",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=2%2A12345678",
		Status: 200,
		Hop:    atHop("2*12345678"),
	},
	{
		Label:  "fields in another order, unknown field ignored",
		CT:     formType,
		Body:   "text=1&phoneNumber=%2B255712345678&hopsMetadata=main&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&networkCode=64004&serviceCode=%2A384%2A1234%23",
		Status: 200,
		Hop:    atHop("1"),
	},
	{
		Label:  "content type with charset",
		CT:     "application/x-www-form-urlencoded; charset=UTF-8",
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1",
		Status: 200,
		Hop:    atHop("1"),
	},
	{
		Label:  "content type in capitals",
		CT:     "Application/X-WWW-Form-Urlencoded;charset=utf-8",
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1",
		Status: 200,
		Hop:    atHop("1"),
	},
	{
		Label:  "no networkCode (older AT platforms)",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&text=",
		Status: 200,
		Hop: providers.Hop{
			Provider: Name, SessionID: fixtureSession, Phone: "+255712345678", ServiceCode: "*384*1234#",
			Accumulated: true, ReplayKey: "t:",
		},
	},
	{
		Label:  "sandbox",
		CT:     formType,
		Body:   "sessionId=ATUid_0a1b2c3d4e5f60718293a4b5c6d7e8f9&serviceCode=%2A384%2A55%23&phoneNumber=%2B254711082300&networkCode=99999&text=",
		Status: 200,
		Hop: providers.Hop{
			Provider: Name, SessionID: "ATUid_0a1b2c3d4e5f60718293a4b5c6d7e8f9", Phone: "+254711082300",
			ServiceCode: "*384*55#", Network: "99999", Accumulated: true, ReplayKey: "t:",
		},
	},
	{
		Label:  "raw '+' in phoneNumber decodes to a space and is restored",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=+255712345678&networkCode=64004&text=",
		Status: 200,
		Hop:    atHop(""),
	},
	{
		Label:  "phoneNumber without '+'",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=255712345678&networkCode=64004&text=",
		Status: 200,
		Hop: providers.Hop{
			Provider: Name, SessionID: fixtureSession, Phone: "255712345678", ServiceCode: "*384*1234#",
			Network: "64004", Accumulated: true, ReplayKey: "t:",
		},
	},
	{
		Label:  "5,000 typed digits are accepted (the menus answer them)",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A" + digits5000,
		Status: 200,
		Hop:    atHop("1*" + digits5000),
	},
	{
		Label:   "missing sessionId",
		CT:      formType,
		Body:    "serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "missing sessionId",
	},
	{
		Label:   "blank sessionId",
		CT:      formType,
		Body:    "sessionId=+%20&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "missing sessionId",
	},
	{
		Label:   "missing serviceCode",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "missing serviceCode",
	},
	{
		Label:   "missing phoneNumber",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&networkCode=64004&text=",
		Status:  400,
		ErrText: "missing phoneNumber",
	},
	{
		Label:   "phoneNumber only a decoded '+'",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=+&networkCode=64004&text=",
		Status:  400,
		ErrText: "missing phoneNumber",
	},
	{
		Label:   "phoneNumber with letters",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712ABCDEF&networkCode=64004&text=",
		Status:  400,
		ErrText: "malformed phoneNumber",
	},
	{
		Label:   "phoneNumber too short",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B25571&networkCode=64004&text=",
		Status:  400,
		ErrText: "malformed phoneNumber",
	},
	{
		Label:   "phoneNumber too long",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B2557123456789012&networkCode=64004&text=",
		Status:  400,
		ErrText: "malformed phoneNumber",
	},
	{
		Label:   "phoneNumber with two '+'",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "malformed phoneNumber",
	},
	{
		Label:   "phoneNumber with two leading spaces",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=++255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "malformed phoneNumber",
	},
	{
		Label:  "invalid UTF-8 in text: replaced, for the menus to refuse",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A%FF",
		Status: 200,
		Hop:    atHop("1*\uFFFD"),
	},
	{
		Label:  "invalid UTF-8 in text: one replacement per run, valid text around it kept",
		CT:     formType,
		Body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A10%C3%28%FE%FF3%E2%82%AC",
		Status: 200,
		Hop:    atHop("1*10\uFFFD(\uFFFD3€"),
	},
	{
		Label:   "invalid UTF-8 in sessionId",
		CT:      formType,
		Body:    "sessionId=ATUid_%C3%28&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "sessionId is not valid UTF-8",
	},
	{
		Label:   "control character in sessionId",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b%0Afake+log+line&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "control character in sessionId",
	},
	{
		Label:   "sessionId longer than 128 bytes",
		CT:      formType,
		Body:    "sessionId=ATUid_" + strings.Repeat("f", 123) + "&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "sessionId longer than 128 bytes",
	},
	{
		Label:   "serviceCode longer than 64 bytes",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384" + strings.Repeat("%2A1", 31) + "%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "serviceCode longer than 64 bytes",
	},
	{
		Label:   "networkCode longer than 16 bytes",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004640046400464004&text=",
		Status:  400,
		ErrText: "networkCode longer than 16 bytes",
	},
	{
		Label:   "repeated text",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1&text=2",
		Status:  400,
		ErrText: "repeated text",
	},
	{
		Label:   "repeated sessionId, the second one escaped",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=&session%49d=ATUid_other",
		Status:  400,
		ErrText: "repeated sessionId",
	},
	{
		Label:   "truncated escape",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2",
		Status:  400,
		ErrText: "invalid %-escape",
	},
	{
		Label:   "non-hex escape",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=%zz",
		Status:  400,
		ErrText: "invalid %-escape",
	},
	{
		Label:   "';' separator (refused as by url.ParseQuery)",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5;text=1&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004",
		Status:  400,
		ErrText: "';'",
	},
	{
		Label:   "JSON",
		CT:      "application/json",
		Body:    `{"sessionId":"ATUid_5d3b4c2bc589f4811820a7184eed4df5","serviceCode":"*384*1234#","phoneNumber":"+255712345678","text":""}`,
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "no content type",
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "content type with a longer subtype",
		CT:      "application/x-www-form-urlencodedx",
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "empty body",
		CT:      formType,
		Status:  400,
		ErrText: "missing sessionId",
	},
	{
		Label:   "body over the gateway's limit",
		CT:      formType,
		Body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A" + digits5000,
		Limit:   4096,
		Status:  413,
		ErrText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	pt.RunHopCases(t, "/ussd/africastalking/tok", hopCases, ParseHop)
}

func TestParseHopNilBody(t *testing.T) {
	r, err := http.NewRequest(http.MethodPost, "/ussd/africastalking/tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", formType)
	if _, err := ParseHop(r); !errors.Is(err, providers.ErrMalformed) {
		t.Errorf("err %v, want ErrMalformed", err)
	}
}

func TestReply(t *testing.T) {
	for _, tc := range []struct {
		label string
		rep   providers.Reply
		body  string
	}{
		{"menu", providers.Reply{Text: "Welcome\n1. My cover\n2. My claims"}, "CON Welcome\n1. My cover\n2. My claims"},
		{"result", providers.Reply{Text: "Policy active until 2026-12-31", End: true}, "END Policy active until 2026-12-31"},
		{"surrounding whitespace is dropped", providers.Reply{Text: " \n Enter insurance number\n", End: false}, "CON Enter insurance number"},
		{"empty END", providers.Reply{End: true}, "END "},
		{"UTF-8 kept", providers.Reply{Text: "Karibu\n1. Uanachama\n2. Madai – हो", End: true}, "END Karibu\n1. Uanachama\n2. Madai – हो"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			if got := string(Body(tc.rep)); got != tc.body {
				t.Errorf("Body %q, want %q", got, tc.body)
			}
			if ct := Provider.USSD.ContentType; ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := string(Provider.USSD.Render(providers.Hop{}, tc.rep)); got != tc.body {
				t.Errorf("rendered %q, want %q", got, tc.body)
			}
		})
	}
}

type eventCase struct {
	label   string
	body    string
	status  int
	errText string
	event   SessionEvent
}

var eventCases = []eventCase{
	{
		label:  "Africa's Talking's own example (docs/providers.md)",
		body:   "date=2026-09-29+12%3A00%3A00&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&networkCode=64004&phoneNumber=%2B255712345678&status=Incomplete&cost=TZS+0.00&durationInMillis=30211&hopsCount=2&hopsMetadata=main%7Cmembership&input=1&lastAppResponse=CON+Enter+insurance+number&errorMessage=",
		status: 200,
		event: SessionEvent{
			SessionID: fixtureSession, ServiceCode: "*384*1234#", Phone: "+255712345678", Network: "64004",
			Status: StatusIncomplete, Input: "1", LastAppResponse: "CON Enter insurance number",
			HopsCount: 2, DurationMillis: 30211, Date: time.Date(2026, 9, 29, 12, 0, 0, 0, time.UTC),
			Cost: "TZS 0.00", HopsMetadata: "main|membership",
		},
	},
	{
		label:  "success, reply with newlines, retryCount ignored",
		body:   "date=2026-09-29+12%3A04%3A10&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&networkCode=64004&phoneNumber=%2B255712345678&status=Success&cost=0.0500&durationInMillis=18002&hopsCount=3&hopsMetadata=main%7Cmembership.ask%7Cmembership.result&input=1%2A12345678&lastAppResponse=END+Juma+K.%0AMy+cover%3A+active+to+2026-12-31&errorMessage=&retryCount=0",
		status: 200,
		event: SessionEvent{
			SessionID: fixtureSession, ServiceCode: "*384*1234#", Phone: "+255712345678", Network: "64004",
			Status: StatusSuccess, Input: "1*12345678", LastAppResponse: "END Juma K.\nMy cover: active to 2026-12-31",
			HopsCount: 3, DurationMillis: 18002, Date: time.Date(2026, 9, 29, 12, 4, 10, 0, time.UTC),
			Cost: "0.0500", HopsMetadata: "main|membership.ask|membership.result",
		},
	},
	{
		label:  "failed, with errorMessage",
		body:   "date=2026-09-29+13%3A15%3A42&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&networkCode=64004&phoneNumber=%2B255712345678&status=Failed&cost=TZS+0.00&durationInMillis=10450&hopsCount=1&hopsMetadata=&input=&lastAppResponse=&errorMessage=Application+response+timed+out&retryCount=2",
		status: 200,
		event: SessionEvent{
			SessionID: fixtureSession, ServiceCode: "*384*1234#", Phone: "+255712345678", Network: "64004",
			Status: StatusFailed, ErrorMessage: "Application response timed out",
			HopsCount: 1, DurationMillis: 10450, Date: time.Date(2026, 9, 29, 13, 15, 42, 0, time.UTC),
			Cost: "TZS 0.00",
		},
	},
	{
		label:  "unknown status kept, raw '+' restored",
		body:   "date=2026-09-29+14%3A00%3A00&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&networkCode=64004&phoneNumber=+255712345678&status=Aborted&durationInMillis=500&hopsCount=1&input=&lastAppResponse=CON+Welcome",
		status: 200,
		event: SessionEvent{
			SessionID: fixtureSession, ServiceCode: "*384*1234#", Phone: "+255712345678", Network: "64004",
			Status: "Aborted", LastAppResponse: "CON Welcome",
			HopsCount: 1, DurationMillis: 500, Date: time.Date(2026, 9, 29, 14, 0, 0, 0, time.UTC),
		},
	},
	{
		label:  "unparsable numbers and date become zero",
		body:   "date=29%2F09%2F2026&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&status=Incomplete&durationInMillis=30.2s&hopsCount=-1",
		status: 200,
		event:  SessionEvent{SessionID: fixtureSession, Status: StatusIncomplete},
	},
	{
		label:  "only sessionId",
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5",
		status: 200,
		event:  SessionEvent{SessionID: fixtureSession},
	},
	{
		label:   "missing sessionId",
		body:    "date=2026-09-29+12%3A00%3A00&serviceCode=%2A384%2A1234%23&networkCode=64004&phoneNumber=%2B255712345678&status=Success",
		status:  400,
		errText: "missing sessionId",
	},
	{
		label:   "invalid UTF-8",
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&status=Failed&errorMessage=%C0%AF",
		status:  400,
		errText: "errorMessage is not valid UTF-8",
	},
	{
		label:  "invalid UTF-8 in the input: replaced as in a hop",
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&status=Incomplete&input=1%2A%FF",
		status: 200,
		event:  SessionEvent{SessionID: fixtureSession, Status: StatusIncomplete, Input: "1*\uFFFD"},
	},
	{
		label:   "empty body",
		status:  400,
		errText: "missing sessionId",
	},
}

func TestParseSessionEvent(t *testing.T) {
	for _, tc := range eventCases {
		t.Run(tc.label, func(t *testing.T) {
			ev, err := ParseSessionEvent(pt.NewRequest(http.MethodPost, "/ussd/africastalking/tok/events", formType, tc.body, 0))
			pt.CheckParsed(t, "event", ev, err, tc.status, tc.errText, tc.event)
		})
	}
}

func TestParseSessionEventJSON(t *testing.T) {
	_, err := ParseSessionEvent(pt.NewRequest(http.MethodPost, "/ussd/africastalking/tok/events", "application/json", `{"sessionId":"x"}`, 0))
	if !errors.Is(err, providers.ErrMalformed) {
		t.Errorf("err %v, want ErrMalformed", err)
	}
}

var phoneRE = regexp.MustCompile(`^\+?\d{6,15}$`)

func FuzzParseHop(f *testing.F) {
	for _, tc := range hopCases {
		f.Add([]byte(tc.Body), tc.CT)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		r := pt.NewRequest(http.MethodPost, "/ussd/africastalking/tok", ct, string(body), 0)
		hop, err := ParseHop(r)
		if pt.Refused(t, err) {
			return
		}
		if !phoneRE.MatchString(hop.Phone) {
			t.Errorf("Phone %q", hop.Phone)
		}
		pt.ValidUTF8(t, hop.SessionID, hop.ServiceCode, hop.Network, hop.Text)
		if hop.SessionID == "" || hop.ServiceCode == "" || len(hop.SessionID) > providers.MaxSessionID ||
			len(hop.ServiceCode) > maxServiceCode || len(hop.Network) > maxNetworkCode {
			t.Errorf("identifiers %q %q %q", hop.SessionID, hop.ServiceCode, hop.Network)
		}
		if hop.Provider != Name || !hop.Accumulated || hop.ReplayKey != "t:"+hop.Text {
			t.Errorf("hop %+v", hop)
		}
		// The hand-written decoder must agree with the standard one, which
		// keeps invalid UTF-8 where ParseHop replaces it.
		vals := pt.FormValues(t, body)
		if got := providers.ValidUTF8(vals.Get("text")); got != hop.Text {
			t.Errorf("text %q, url.ParseQuery %q", hop.Text, got)
		}
		if got := strings.TrimSpace(vals.Get("sessionId")); got != hop.SessionID {
			t.Errorf("sessionId %q, url.ParseQuery %q", hop.SessionID, got)
		}
		if got := restorePlus(vals.Get("phoneNumber")); got != hop.Phone {
			t.Errorf("phoneNumber %q, url.ParseQuery %q", hop.Phone, got)
		}
	})
}

func FuzzParseSessionEvent(f *testing.F) {
	for _, tc := range eventCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseSessionEvent(pt.NewRequest(http.MethodPost, "/ussd/africastalking/tok/events", formType, string(body), 0))
		if pt.Refused(t, err) {
			return
		}
		if ev.SessionID == "" || ev.HopsCount < 0 || ev.DurationMillis < 0 {
			t.Errorf("event %+v", ev)
		}
		if !ev.Date.IsZero() && ev.Date.Location() != time.UTC {
			t.Errorf("Date %v not UTC", ev.Date)
		}
		pt.ValidUTF8(t, ev.SessionID, ev.ServiceCode, ev.Phone, ev.Network, ev.Status, ev.Input,
			ev.LastAppResponse, ev.ErrorMessage, ev.Cost, ev.HopsMetadata)
		pt.FormValues(t, body)
	})
}

func BenchmarkParseHop(b *testing.B) {
	body := []byte("sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A12345678")
	r := pt.NewRequest(http.MethodPost, "/ussd/africastalking/tok", formType, "", 0)
	rd := bytes.NewReader(body)
	r.Body = io.NopCloser(rd)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		if _, err := ParseHop(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBody(b *testing.B) {
	rep := providers.Reply{Text: "Welcome\n1. Check membership\n2. Claim status\n3. Renew policy\n4. Language"}
	b.ReportAllocs()
	for b.Loop() {
		Body(rep)
	}
}
