package infobip

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

const (
	fixtureSession = "7f3c2a90-5b1e-4d2a-9c4e-0d8e6b1a2f33"
	jsonType       = "application/json"
)

// hopCase is a pt.HopCase as one of Infobip's session calls, which the
// method and the path's session id and action tell apart as much as the body.
type hopCase struct {
	method, sessionID, action string
	pt.HopCase
}

// infobipHop is a hop of the fixture session (vumi's test payload).
func infobipHop(mod func(*providers.Hop)) providers.Hop {
	h := providers.Hop{Provider: Name, SessionID: fixtureSession, Phone: "+385955363443", ServiceCode: "*123#"}
	if mod != nil {
		mod(&h)
	}
	return h
}

var endHop = providers.Hop{Provider: Name, SessionID: fixtureSession, End: true}

var hopCases = []hopCase{
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "start", CT: jsonType,
		Body:   `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#","optional":"o=1","ussdGwId":"11","language":null,"text":"*123#"}`,
		Status: 200,
		Hop:    infobipHop(pt.Start("*123#")),
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "start with a pre-dialled route", CT: jsonType,
		Body:   `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#","optional":"o=1","ussdGwId":"live2","language":null,"text":"*123*3#"}`,
		Status: 200,
		Hop:    infobipHop(pt.Start("*123*3#")),
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "start without shortCode (vumi: not as mandatory as documented)", CT: jsonType,
		Body:   `{"msisdn":"385955363443","text":"*123#"}`,
		Status: 200,
		Hop:    infobipHop(func(h *providers.Hop) { pt.Start("*123#")(h); h.ServiceCode = "" }),
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "response", CT: jsonType,
		Body:   `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#","optional":"o=1","ussdGwId":"11","language":null,"text":"1"}`,
		Status: 200,
		Hop:    infobipHop(pt.Input("1")),
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "response without shortCode, with language", CT: "application/json; charset=UTF-8",
		Body:   `{"msisdn":"385955363443","text":"12345678","language":"en"}`,
		Status: 200,
		Hop:    infobipHop(func(h *providers.Hop) { h.Text, h.ServiceCode = "12345678", "" }),
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "response, empty text", CT: jsonType,
		Body:   `{"msisdn":"385955363443","shortCode":"*123#","text":""}`,
		Status: 200,
		Hop:    infobipHop(nil),
	}},
	{method: "PUT", sessionID: fixtureSession, action: ActionEnd, HopCase: pt.HopCase{
		Label: "end (PUT)", CT: jsonType,
		Body:   `{"exitCode":0,"reason":"ok"}`,
		Status: 200,
		Hop:    endHop,
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionEnd, HopCase: pt.HopCase{
		Label: "end (POST), user abandoned", CT: jsonType,
		Body:   `{"exitCode":2,"reason":"user abort"}`,
		Status: 200,
		Hop:    endHop,
	}},
	{method: "PUT", sessionID: fixtureSession, action: ActionEnd, HopCase: pt.HopCase{
		Label:  "end without body",
		Status: 200,
		Hop:    endHop,
	}},
	{method: "PUT", sessionID: fixtureSession, action: ActionEnd, HopCase: pt.HopCase{
		Label: "end with a wrongly typed exitCode", CT: jsonType,
		Body:    `{"exitCode":"zero","reason":"ok"}`,
		Status:  400,
		ErrText: "not a count",
	}},
	{method: "PUT", sessionID: fixtureSession, action: ActionEnd, HopCase: pt.HopCase{
		Label: "end with a form body", CT: "application/x-www-form-urlencoded",
		Body:    `exitCode=0&reason=ok`,
		Status:  400,
		ErrText: "content type",
	}},
	{method: "GET", sessionID: fixtureSession, action: ActionEnd, HopCase: pt.HopCase{
		Label:   "end as GET",
		Status:  400,
		ErrText: "want PUT",
	}},
	{method: "GET", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "start as GET", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"*123#"}`,
		Status:  400,
		ErrText: "want POST",
	}},
	{method: "GET", sessionID: fixtureSession, action: ActionStatus, HopCase: pt.HopCase{
		Label:   "status is not a hop",
		Status:  400,
		ErrText: `unknown session action "status"`,
	}},
	{method: "POST", sessionID: fixtureSession, action: "restart", HopCase: pt.HopCase{
		Label: "unknown action", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"*123#"}`,
		Status:  400,
		ErrText: "unknown session action",
	}},
	{method: "POST", sessionID: "", action: ActionResponse, HopCase: pt.HopCase{
		Label: "empty session id", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"1"}`,
		Status:  400,
		ErrText: "missing session id",
	}},
	{method: "POST", sessionID: "abc\r\nX-Fake: 1", action: ActionResponse, HopCase: pt.HopCase{
		Label: "session id with a control character", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"1"}`,
		Status:  400,
		ErrText: "control character in session id",
	}},
	{method: "POST", sessionID: "\x81", action: ActionResponse, HopCase: pt.HopCase{
		Label: "session id not UTF-8 (a path segment %81)", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"1"}`,
		Status:  400,
		ErrText: "session id is not valid UTF-8",
	}},
	{method: "POST", sessionID: strings.Repeat("a", 129), action: ActionResponse, HopCase: pt.HopCase{
		Label: "session id longer than 128 bytes", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"1"}`,
		Status:  400,
		ErrText: "session id longer than 128 bytes",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "start without text (vumi: missing required field)", CT: jsonType,
		Body:    `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#"}`,
		Status:  400,
		ErrText: "missing text",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "response with null text", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":null}`,
		Status:  400,
		ErrText: "missing text",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "start without msisdn", CT: jsonType,
		Body:    `{"text":"Oops. No msisdn."}`,
		Status:  400,
		ErrText: "missing phone number",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "imsi as a number", CT: jsonType,
		Body:    `{"msisdn":"385955363443","imsi":429011234567890,"text":"*123#"}`,
		Status:  400,
		ErrText: "imsi is a number",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "text twice", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"1","Text":"2"}`,
		Status:  400,
		ErrText: "repeated member",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "invalid UTF-8 in text (an overlong '/'): replaced, for the menus to refuse", CT: jsonType,
		Body:   "{\"msisdn\":\"385955363443\",\"text\":\"\xc0\xaf\"}",
		Status: 200,
		Hop:    infobipHop(func(h *providers.Hop) { h.Text, h.ServiceCode = "\uFFFD", "" }),
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "invalid UTF-8 in imsi", CT: jsonType,
		Body:    "{\"msisdn\":\"385955363443\",\"imsi\":\"42901\xc0\xaf\",\"text\":\"1\"}",
		Status:  400,
		ErrText: "imsi is not valid UTF-8",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label: "not JSON (vumi's 'not json at all')", CT: jsonType,
		Body:    `not json at all`,
		Status:  400,
		ErrText: "invalid JSON",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionStart, HopCase: pt.HopCase{
		Label:   "no content type",
		Body:    `{"msisdn":"385955363443","text":"*123#"}`,
		Status:  400,
		ErrText: "content type",
	}},
	{method: "POST", sessionID: fixtureSession, action: ActionResponse, HopCase: pt.HopCase{
		Label: "body over the gateway's limit", CT: jsonType,
		Body:    `{"msisdn":"385955363443","text":"` + strings.Repeat("5", 5000) + `"}`,
		Limit:   4096,
		Status:  413,
		ErrText: "request body too large",
	}},
	{method: "PUT", sessionID: fixtureSession, action: ActionEnd, HopCase: pt.HopCase{
		Label: "end body over the gateway's limit", CT: jsonType,
		Body:    `{"exitCode":0,"reason":"` + strings.Repeat("x", 5000) + `"}`,
		Limit:   4096,
		Status:  413,
		ErrText: "request body too large",
	}},
}

func request(tc hopCase) *http.Request {
	return pt.NewRequest(tc.method, "/ussd/infobip/tok/session/x/"+tc.action, tc.CT, tc.Body, tc.Limit)
}

func TestParseHop(t *testing.T) {
	for _, tc := range hopCases {
		t.Run(tc.Label, func(t *testing.T) {
			hop, err := ParseHop(request(tc), tc.sessionID, tc.action)
			pt.CheckHop(t, hop, err, tc.Status, tc.ErrText, tc.Hop)
		})
	}
}

func parse(t *testing.T, action, body string) providers.Hop {
	t.Helper()
	method := http.MethodPost
	if action == ActionEnd {
		method = http.MethodPut
	}
	return pt.MustHop(t, func(r *http.Request) (providers.Hop, error) { return ParseHop(r, fixtureSession, action) },
		pt.NewRequest(method, "/ussd/infobip/tok/session/x/"+action, jsonType, body, 0))
}

func TestReplayKey(t *testing.T) {
	const startBody = `{"msisdn":"385955363443","shortCode":"*123#","text":"*123#"}`
	if a, b := parse(t, ActionStart, startBody), parse(t, ActionStart, startBody); a.KeyAt(0) != providers.ReplayKeyStart || b.KeyAt(1) != a.KeyAt(0) {
		t.Errorf("start keys %q %q", a.KeyAt(0), b.KeyAt(1))
	}
	a, b := parse(t, ActionResponse, `{"msisdn":"385955363443","text":"1"}`), parse(t, ActionResponse, `{"msisdn":"385955363443","text":"1"}`)
	if a.ReplayKey != "" || a.KeyAt(1) != b.KeyAt(1) || a.KeyAt(1) == a.KeyAt(2) {
		t.Errorf("keys %q %q %q", a.KeyAt(1), b.KeyAt(1), a.KeyAt(2))
	}
}

// A membership check through Infobip's calls: start, "1" (Check membership),
// the insurance number, end.
func TestMembershipWalk(t *testing.T) {
	pt.Walk(t, "", []pt.Step{
		{
			Hop: parse(t, ActionStart, `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#","optional":"o=1","ussdGwId":"11","language":null,"text":"*123#"}`),
			Key: providers.ReplayKeyStart,
		},
		{
			Hop:    parse(t, ActionResponse, `{"msisdn":"385955363443","imsi":"429011234567890","text":"1"}`),
			Inputs: []string{"1"},
			Key:    "n:1:1",
		},
		{
			Hop:    parse(t, ActionResponse, `{"msisdn":"385955363443","imsi":"429011234567890","text":"12345678"}`),
			Inputs: []string{"12345678"},
			Key:    "n:2:12345678",
		},
	})
	pt.Walk(t, "", []pt.Step{{
		Hop:    parse(t, ActionStart, `{"msisdn":"385955363443","shortCode":"*123#","text":"*123*1*12345678#"}`),
		Inputs: []string{"1", "12345678"},
		Key:    providers.ReplayKeyStart,
	}})
	end := parse(t, ActionEnd, `{"exitCode":0,"reason":"ok"}`)
	if _, err := end.Inputs("", false); !errors.Is(err, providers.ErrEnded) || !end.BoundTo("+385955363443", "*123#") {
		t.Errorf("end: Inputs err %v, BoundTo %v", err, end.BoundTo("+385955363443", "*123#"))
	}
}

func TestBody(t *testing.T) {
	hop := infobipHop(pt.Input("1"))
	pt.RunBodyCases(t, ContentType, []pt.BodyCase{
		{Label: "menu", Hop: hop, Rep: providers.Reply{Text: "Welcome\n1. Check membership"},
			Body: `{"ussdMenu":"Welcome\n1. Check membership","shouldClose":false,"responseExitCode":200,"responseMessage":""}`},
		{Label: "result", Hop: hop, Rep: providers.Reply{Text: "Ivan H.: covered until 2026-12-31", End: true},
			Body: `{"ussdMenu":"Ivan H.: covered until 2026-12-31","shouldClose":true,"responseExitCode":200,"responseMessage":""}`},
		{Label: "end acknowledged", Hop: endHop, Rep: providers.Reply{Text: "ignored", End: true},
			Body: `{"responseExitCode":200,"responseMessage":""}`},
	}, Body, Provider.USSD)
	if got, want := string(StatusBody(true)), `{"sessionActive":true,"responseExitCode":200,"responseMessage":""}`; got != want {
		t.Errorf("StatusBody %s, want %s", got, want)
	}
	if got, want := string(StatusBody(false)), `{"sessionActive":false,"responseExitCode":200,"responseMessage":""}`; got != want {
		t.Errorf("StatusBody %s, want %s", got, want)
	}
}

// The fuzzer picks the action and method with one byte: its low bits index
// fuzzActions, its high bit asks for PUT instead of POST.
var fuzzActions = []string{ActionStart, ActionResponse, ActionEnd, ActionStatus, "restart"}

func FuzzParseHop(f *testing.F) {
	for _, tc := range hopCases {
		a := uint8(max(slices.Index(fuzzActions, tc.action), 0))
		if tc.method == http.MethodPut {
			a |= 0x80
		}
		f.Add([]byte(tc.Body), tc.CT, tc.sessionID, a)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct, sessionID string, a uint8) {
		action := fuzzActions[int(a&0x7f)%len(fuzzActions)]
		method := http.MethodPost
		if a&0x80 != 0 {
			method = http.MethodPut
		}
		hop, err := ParseHop(pt.NewRequest(method, "/ussd/infobip/tok/session/x/y", ct, string(body), 0), sessionID, action)
		if pt.Refused(t, err) {
			return
		}
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > providers.MaxSessionID ||
			len(hop.ServiceCode) > wire.MaxServiceCode || hop.Accumulated || hop.End != (action == ActionEnd) ||
			hop.Start != (action == ActionStart) || (!hop.End && !pt.PhoneRE.MatchString(hop.Phone)) {
			t.Errorf("action %q: hop %+v", action, hop)
		}
		pt.ValidUTF8(t, hop.SessionID, hop.Phone, hop.ServiceCode, hop.Text, hop.Dialled)
		var out map[string]any
		if err := json.Unmarshal(Body(hop, providers.Reply{Text: hop.Text}), &out); err != nil {
			t.Fatalf("Body is not JSON: %v", err)
		}
		if out["responseExitCode"] != float64(200) {
			t.Errorf("Body %v", out)
		}
	})
}
