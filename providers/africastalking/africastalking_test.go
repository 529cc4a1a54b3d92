package africastalking

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
)

const fixtureSession = "ATUid_5d3b4c2bc589f4811820a7184eed4df5"

// hopCase is one request as AT sends it. status is what the gateway answers
// for the error ParseHop returns (see statusOf): 200 means hop is expected.
type hopCase struct {
	label   string
	ct      string
	body    string
	limit   int64 // http.MaxBytesReader limit when > 0
	status  int
	errText string
	hop     providers.Hop
}

// atHop is the hop the fixture request of protocols.md §1.10 parses to, with
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

var hopCases = []hopCase{
	{
		label:  "first hop, empty text",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status: 200,
		hop:    atHop(""),
	},
	{
		label:  "first hop, no text field",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004",
		status: 200,
		hop:    atHop(""),
	},
	{
		label:  "second hop",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1",
		status: 200,
		hop:    atHop("1"),
	},
	{
		label:  "third hop, insurance number typed",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A12345678",
		status: 200,
		hop:    atHop("1*12345678"),
	},
	{
		label:  "'*' typed inside free text stays in the transcript",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=3%2A12345678%2ARC%2A42",
		status: 200,
		hop:    atHop("3*12345678*RC*42"),
	},
	{
		label:  "pre-dialled route *384*1234*2*12345678#",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=2%2A12345678",
		status: 200,
		hop:    atHop("2*12345678"),
	},
	{
		label:  "fields in another order, unknown field ignored",
		ct:     formType,
		body:   "text=1&phoneNumber=%2B255712345678&hopsMetadata=main&sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&networkCode=64004&serviceCode=%2A384%2A1234%23",
		status: 200,
		hop:    atHop("1"),
	},
	{
		label:  "content type with charset",
		ct:     "application/x-www-form-urlencoded; charset=UTF-8",
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1",
		status: 200,
		hop:    atHop("1"),
	},
	{
		label:  "content type in capitals",
		ct:     "Application/X-WWW-Form-Urlencoded;charset=utf-8",
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1",
		status: 200,
		hop:    atHop("1"),
	},
	{
		label:  "no networkCode (older AT platforms)",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&text=",
		status: 200,
		hop: providers.Hop{
			Provider: Name, SessionID: fixtureSession, Phone: "+255712345678", ServiceCode: "*384*1234#",
			Accumulated: true, ReplayKey: "t:",
		},
	},
	{
		label:  "sandbox",
		ct:     formType,
		body:   "sessionId=ATUid_0a1b2c3d4e5f60718293a4b5c6d7e8f9&serviceCode=%2A384%2A55%23&phoneNumber=%2B254711082300&networkCode=99999&text=",
		status: 200,
		hop: providers.Hop{
			Provider: Name, SessionID: "ATUid_0a1b2c3d4e5f60718293a4b5c6d7e8f9", Phone: "+254711082300",
			ServiceCode: "*384*55#", Network: "99999", Accumulated: true, ReplayKey: "t:",
		},
	},
	{
		label:  "raw '+' in phoneNumber decodes to a space and is restored",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=+255712345678&networkCode=64004&text=",
		status: 200,
		hop:    atHop(""),
	},
	{
		label:  "phoneNumber without '+'",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=255712345678&networkCode=64004&text=",
		status: 200,
		hop: providers.Hop{
			Provider: Name, SessionID: fixtureSession, Phone: "255712345678", ServiceCode: "*384*1234#",
			Network: "64004", Accumulated: true, ReplayKey: "t:",
		},
	},
	{
		label:  "5,000 typed digits are accepted (the menus answer them)",
		ct:     formType,
		body:   "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A" + digits5000,
		status: 200,
		hop:    atHop("1*" + digits5000),
	},
	{
		label:   "missing sessionId",
		ct:      formType,
		body:    "serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "missing sessionId",
	},
	{
		label:   "blank sessionId",
		ct:      formType,
		body:    "sessionId=+%20&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "missing sessionId",
	},
	{
		label:   "missing serviceCode",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "missing serviceCode",
	},
	{
		label:   "missing phoneNumber",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&networkCode=64004&text=",
		status:  400,
		errText: "missing phoneNumber",
	},
	{
		label:   "phoneNumber only a decoded '+'",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=+&networkCode=64004&text=",
		status:  400,
		errText: "missing phoneNumber",
	},
	{
		label:   "phoneNumber with letters",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712ABCDEF&networkCode=64004&text=",
		status:  400,
		errText: "malformed phoneNumber",
	},
	{
		label:   "phoneNumber too short",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B25571&networkCode=64004&text=",
		status:  400,
		errText: "malformed phoneNumber",
	},
	{
		label:   "phoneNumber too long",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B2557123456789012&networkCode=64004&text=",
		status:  400,
		errText: "malformed phoneNumber",
	},
	{
		label:   "phoneNumber with two '+'",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "malformed phoneNumber",
	},
	{
		label:   "phoneNumber with two leading spaces",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=++255712345678&networkCode=64004&text=",
		status:  400,
		errText: "malformed phoneNumber",
	},
	{
		label:   "invalid UTF-8 in text",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A%FF",
		status:  400,
		errText: "text is not valid UTF-8",
	},
	{
		label:   "invalid UTF-8 in sessionId",
		ct:      formType,
		body:    "sessionId=ATUid_%C3%28&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "sessionId is not valid UTF-8",
	},
	{
		label:   "control character in sessionId",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b%0Afake+log+line&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "control character in sessionId",
	},
	{
		label:   "sessionId longer than 128 bytes",
		ct:      formType,
		body:    "sessionId=ATUid_" + strings.Repeat("f", 123) + "&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "sessionId longer than 128 bytes",
	},
	{
		label:   "serviceCode longer than 64 bytes",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384" + strings.Repeat("%2A1", 31) + "%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "serviceCode longer than 64 bytes",
	},
	{
		label:   "networkCode longer than 16 bytes",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004640046400464004&text=",
		status:  400,
		errText: "networkCode longer than 16 bytes",
	},
	{
		label:   "repeated text",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1&text=2",
		status:  400,
		errText: "repeated text",
	},
	{
		label:   "repeated sessionId, the second one escaped",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=&session%49d=ATUid_other",
		status:  400,
		errText: "repeated sessionId",
	},
	{
		label:   "truncated escape",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2",
		status:  400,
		errText: "invalid %-escape",
	},
	{
		label:   "non-hex escape",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=%zz",
		status:  400,
		errText: "invalid %-escape",
	},
	{
		label:   "';' separator (refused as by url.ParseQuery)",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5;text=1&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004",
		status:  400,
		errText: "';'",
	},
	{
		label:   "JSON",
		ct:      "application/json",
		body:    `{"sessionId":"ATUid_5d3b4c2bc589f4811820a7184eed4df5","serviceCode":"*384*1234#","phoneNumber":"+255712345678","text":""}`,
		status:  400,
		errText: "content type",
	},
	{
		label:   "no content type",
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "content type",
	},
	{
		label:   "content type with a longer subtype",
		ct:      "application/x-www-form-urlencodedx",
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=",
		status:  400,
		errText: "content type",
	},
	{
		label:   "empty body",
		ct:      formType,
		status:  400,
		errText: "missing sessionId",
	},
	{
		label:   "body over the gateway's limit",
		ct:      formType,
		body:    "sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A" + digits5000,
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
}

// statusOf is how the gateway answers ParseHop's and ParseSessionEvent's
// errors.
func statusOf(err error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, providers.ErrMalformed):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

func newRequest(target, ct, body string, limit int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if limit > 0 {
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, limit)
	}
	return r
}

func TestParseHop(t *testing.T) {
	for _, tc := range hopCases {
		t.Run(tc.label, func(t *testing.T) {
			hop, err := ParseHop(newRequest("/ussd/africastalking/tok", tc.ct, tc.body, tc.limit))
			if got := statusOf(err); got != tc.status {
				t.Fatalf("status %d (err %v), want %d", got, err, tc.status)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("err %q, want it to mention %q", err, tc.errText)
				}
				return
			}
			if hop != tc.hop {
				t.Errorf("hop\n got %+v\nwant %+v", hop, tc.hop)
			}
		})
	}
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
			w := httptest.NewRecorder()
			WriteReply(w, tc.rep)
			if w.Code != http.StatusOK {
				t.Errorf("status %d, want 200", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := w.Body.String(); got != tc.body {
				t.Errorf("written %q, want %q", got, tc.body)
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
		label:  "protocols.md §1.10 fixture",
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
		label:   "empty body",
		status:  400,
		errText: "missing sessionId",
	},
}

func TestParseSessionEvent(t *testing.T) {
	for _, tc := range eventCases {
		t.Run(tc.label, func(t *testing.T) {
			ev, err := ParseSessionEvent(newRequest("/ussd/africastalking/tok/events", formType, tc.body, 0))
			if got := statusOf(err); got != tc.status {
				t.Fatalf("status %d (err %v), want %d", got, err, tc.status)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("err %q, want it to mention %q", err, tc.errText)
				}
				return
			}
			if ev != tc.event {
				t.Errorf("event\n got %+v\nwant %+v", ev, tc.event)
			}
		})
	}
}

func TestParseSessionEventJSON(t *testing.T) {
	_, err := ParseSessionEvent(newRequest("/ussd/africastalking/tok/events", "application/json", `{"sessionId":"x"}`, 0))
	if !errors.Is(err, providers.ErrMalformed) {
		t.Errorf("err %v, want ErrMalformed", err)
	}
}

func TestWriteEventAck(t *testing.T) {
	w := httptest.NewRecorder()
	WriteEventAck(w)
	if w.Code != http.StatusOK || w.Body.String() != "OK" || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("got %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}

var phoneRE = regexp.MustCompile(`^\+?\d{6,15}$`)

func FuzzParseHop(f *testing.F) {
	for _, tc := range hopCases {
		f.Add([]byte(tc.body), tc.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		r := newRequest("/ussd/africastalking/tok", ct, string(body), 0)
		hop, err := ParseHop(r)
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !phoneRE.MatchString(hop.Phone) {
			t.Errorf("Phone %q", hop.Phone)
		}
		for _, s := range []string{hop.SessionID, hop.ServiceCode, hop.Network, hop.Text} {
			if !utf8.ValidString(s) {
				t.Errorf("invalid UTF-8 %q", s)
			}
		}
		if hop.SessionID == "" || hop.ServiceCode == "" || len(hop.SessionID) > maxSessionID ||
			len(hop.ServiceCode) > maxServiceCode || len(hop.Network) > maxNetworkCode {
			t.Errorf("identifiers %q %q %q", hop.SessionID, hop.ServiceCode, hop.Network)
		}
		if hop.Provider != Name || !hop.Accumulated || hop.ReplayKey != "t:"+hop.Text {
			t.Errorf("hop %+v", hop)
		}
		// The hand-written decoder must agree with the standard one.
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("accepted a body url.ParseQuery refuses: %v", err)
		}
		if got := vals.Get("text"); got != hop.Text {
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
		ev, err := ParseSessionEvent(newRequest("/ussd/africastalking/tok/events", formType, string(body), 0))
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if ev.SessionID == "" || ev.HopsCount < 0 || ev.DurationMillis < 0 {
			t.Errorf("event %+v", ev)
		}
		if !ev.Date.IsZero() && ev.Date.Location() != time.UTC {
			t.Errorf("Date %v not UTC", ev.Date)
		}
		for _, s := range []string{ev.SessionID, ev.ServiceCode, ev.Phone, ev.Network, ev.Status, ev.Input,
			ev.LastAppResponse, ev.ErrorMessage, ev.Cost, ev.HopsMetadata} {
			if !utf8.ValidString(s) {
				t.Errorf("invalid UTF-8 %q", s)
			}
		}
		if _, err := url.ParseQuery(string(body)); err != nil {
			t.Fatalf("accepted a body url.ParseQuery refuses: %v", err)
		}
	})
}

func BenchmarkParseHop(b *testing.B) {
	body := []byte("sessionId=ATUid_5d3b4c2bc589f4811820a7184eed4df5&serviceCode=%2A384%2A1234%23&phoneNumber=%2B255712345678&networkCode=64004&text=1%2A12345678")
	r := newRequest("/ussd/africastalking/tok", formType, "", 0)
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
