package infobip

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
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

// hopCase is one session call as Infobip makes it: method, path id and
// action, body.
type hopCase struct {
	label     string
	method    string
	sessionID string
	action    string
	ct        string
	body      string
	limit     int64
	status    int
	errText   string
	hop       providers.Hop
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
	{
		label: "start", method: "POST", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:   `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#","optional":"o=1","ussdGwId":"11","language":null,"text":"*123#"}`,
		status: 200,
		hop:    infobipHop(pt.Start("*123#")),
	},
	{
		label: "start with a pre-dialled route", method: "POST", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:   `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#","optional":"o=1","ussdGwId":"live2","language":null,"text":"*123*3#"}`,
		status: 200,
		hop:    infobipHop(pt.Start("*123*3#")),
	},
	{
		label: "start without shortCode (vumi: not as mandatory as documented)", method: "POST", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:   `{"msisdn":"385955363443","text":"*123#"}`,
		status: 200,
		hop:    infobipHop(func(h *providers.Hop) { pt.Start("*123#")(h); h.ServiceCode = "" }),
	},
	{
		label: "response", method: "POST", sessionID: fixtureSession, action: ActionResponse, ct: jsonType,
		body:   `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#","optional":"o=1","ussdGwId":"11","language":null,"text":"1"}`,
		status: 200,
		hop:    infobipHop(pt.Input("1")),
	},
	{
		label: "response without shortCode, with language", method: "POST", sessionID: fixtureSession, action: ActionResponse, ct: "application/json; charset=UTF-8",
		body:   `{"msisdn":"385955363443","text":"12345678","language":"en"}`,
		status: 200,
		hop:    infobipHop(func(h *providers.Hop) { h.Text, h.ServiceCode = "12345678", "" }),
	},
	{
		label: "response, empty text", method: "POST", sessionID: fixtureSession, action: ActionResponse, ct: jsonType,
		body:   `{"msisdn":"385955363443","shortCode":"*123#","text":""}`,
		status: 200,
		hop:    infobipHop(nil),
	},
	{
		label: "end (PUT)", method: "PUT", sessionID: fixtureSession, action: ActionEnd, ct: jsonType,
		body:   `{"exitCode":0,"reason":"ok"}`,
		status: 200,
		hop:    endHop,
	},
	{
		label: "end (POST), user abandoned", method: "POST", sessionID: fixtureSession, action: ActionEnd, ct: jsonType,
		body:   `{"exitCode":2,"reason":"user abort"}`,
		status: 200,
		hop:    endHop,
	},
	{
		label: "end without body", method: "PUT", sessionID: fixtureSession, action: ActionEnd,
		status: 200,
		hop:    endHop,
	},
	{
		label: "end with a wrongly typed exitCode", method: "PUT", sessionID: fixtureSession, action: ActionEnd, ct: jsonType,
		body:    `{"exitCode":"zero","reason":"ok"}`,
		status:  400,
		errText: "not a count",
	},
	{
		label: "end with a form body", method: "PUT", sessionID: fixtureSession, action: ActionEnd, ct: "application/x-www-form-urlencoded",
		body:    `exitCode=0&reason=ok`,
		status:  400,
		errText: "content type",
	},
	{
		label: "end as GET", method: "GET", sessionID: fixtureSession, action: ActionEnd,
		status:  400,
		errText: "want PUT",
	},
	{
		label: "start as GET", method: "GET", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"*123#"}`,
		status:  400,
		errText: "want POST",
	},
	{
		label: "status is not a hop", method: "GET", sessionID: fixtureSession, action: ActionStatus,
		status:  400,
		errText: `unknown session action "status"`,
	},
	{
		label: "unknown action", method: "POST", sessionID: fixtureSession, action: "restart", ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"*123#"}`,
		status:  400,
		errText: "unknown session action",
	},
	{
		label: "empty session id", method: "POST", sessionID: "", action: ActionResponse, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"1"}`,
		status:  400,
		errText: "missing session id",
	},
	{
		label: "session id with a control character", method: "POST", sessionID: "abc\r\nX-Fake: 1", action: ActionResponse, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"1"}`,
		status:  400,
		errText: "control character in session id",
	},
	{
		label: "session id not UTF-8 (a path segment %81)", method: "POST", sessionID: "\x81", action: ActionResponse, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"1"}`,
		status:  400,
		errText: "session id is not valid UTF-8",
	},
	{
		label: "session id longer than 128 bytes", method: "POST", sessionID: strings.Repeat("a", 129), action: ActionResponse, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"1"}`,
		status:  400,
		errText: "session id longer than 128 bytes",
	},
	{
		label: "start without text (vumi: missing required field)", method: "POST", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:    `{"msisdn":"385955363443","imsi":"429011234567890","shortCode":"*123#"}`,
		status:  400,
		errText: "missing text",
	},
	{
		label: "response with null text", method: "POST", sessionID: fixtureSession, action: ActionResponse, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":null}`,
		status:  400,
		errText: "missing text",
	},
	{
		label: "start without msisdn", method: "POST", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:    `{"text":"Oops. No msisdn."}`,
		status:  400,
		errText: "missing phone number",
	},
	{
		label: "imsi as a number", method: "POST", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:    `{"msisdn":"385955363443","imsi":429011234567890,"text":"*123#"}`,
		status:  400,
		errText: "imsi is a number",
	},
	{
		label: "text twice", method: "POST", sessionID: fixtureSession, action: ActionResponse, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"1","Text":"2"}`,
		status:  400,
		errText: "repeated member",
	},
	{
		label: "invalid UTF-8", method: "POST", sessionID: fixtureSession, action: ActionResponse, ct: jsonType,
		body:    "{\"msisdn\":\"385955363443\",\"text\":\"\xc0\xaf\"}",
		status:  400,
		errText: "not valid UTF-8",
	},
	{
		label: "not JSON (vumi's 'not json at all')", method: "POST", sessionID: fixtureSession, action: ActionStart, ct: jsonType,
		body:    `not json at all`,
		status:  400,
		errText: "invalid JSON",
	},
	{
		label: "no content type", method: "POST", sessionID: fixtureSession, action: ActionStart,
		body:    `{"msisdn":"385955363443","text":"*123#"}`,
		status:  400,
		errText: "content type",
	},
	{
		label: "body over the gateway's limit", method: "POST", sessionID: fixtureSession, action: ActionResponse, ct: jsonType,
		body:    `{"msisdn":"385955363443","text":"` + strings.Repeat("5", 5000) + `"}`,
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
	{
		label: "end body over the gateway's limit", method: "PUT", sessionID: fixtureSession, action: ActionEnd, ct: jsonType,
		body:    `{"exitCode":0,"reason":"` + strings.Repeat("x", 5000) + `"}`,
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
}

func request(tc hopCase) *http.Request {
	return pt.NewRequest(tc.method, "/ussd/infobip/tok/session/x/"+tc.action, tc.ct, tc.body, tc.limit)
}

func TestParseHop(t *testing.T) {
	for _, tc := range hopCases {
		t.Run(tc.label, func(t *testing.T) {
			hop, err := ParseHop(request(tc), tc.sessionID, tc.action)
			pt.CheckHop(t, hop, err, tc.status, tc.errText, tc.hop)
		})
	}
}

func parse(t *testing.T, action, body string) providers.Hop {
	t.Helper()
	method := http.MethodPost
	if action == ActionEnd {
		method = http.MethodPut
	}
	hop, err := ParseHop(pt.NewRequest(method, "/ussd/infobip/tok/session/x/"+action, jsonType, body, 0), fixtureSession, action)
	if err != nil {
		t.Fatal(err)
	}
	return hop
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
	for _, tc := range []struct {
		label string
		hop   providers.Hop
		rep   providers.Reply
		body  string
	}{
		{"menu", hop, providers.Reply{Text: "Welcome\n1. Check membership"},
			`{"ussdMenu":"Welcome\n1. Check membership","shouldClose":false,"responseExitCode":200,"responseMessage":""}`},
		{"result", hop, providers.Reply{Text: "Ivan H.: covered until 2026-12-31", End: true},
			`{"ussdMenu":"Ivan H.: covered until 2026-12-31","shouldClose":true,"responseExitCode":200,"responseMessage":""}`},
		{"end acknowledged", endHop, providers.Reply{Text: "ignored", End: true},
			`{"responseExitCode":200,"responseMessage":""}`},
	} {
		t.Run(tc.label, func(t *testing.T) {
			if got := string(Body(tc.hop, tc.rep)); got != tc.body {
				t.Errorf("Body\n got %s\nwant %s", got, tc.body)
			}
			w := httptest.NewRecorder()
			WriteReply(w, tc.hop, tc.rep)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ContentType || w.Body.String() != tc.body {
				t.Errorf("WriteReply: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
			}
		})
	}
	if got, want := string(ErrorBody(400, `USSD session "x" unknown`)), `{"responseExitCode":400,"responseMessage":"USSD session \"x\" unknown"}`; got != want {
		t.Errorf("ErrorBody %s, want %s", got, want)
	}
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
		f.Add([]byte(tc.body), tc.ct, tc.sessionID, a)
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
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > wire.MaxSessionID ||
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
