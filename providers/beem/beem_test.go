package beem

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

const (
	fixtureSession = "beem-3f9d2c71"
	jsonType       = "application/json"
	// serviceCode stands in for the gateway's configured code: Beem sends none.
	serviceCode = "*150*88#"
)

type hopCase struct {
	label   string
	ct      string
	body    string
	limit   int64
	status  int
	errText string
	hop     providers.Hop
}

// beemHop is a hop of the fixture session; request ids differ per call.
func beemHop(requestID string, mod func(*providers.Hop)) providers.Hop {
	h := providers.Hop{
		Provider: Name, SessionID: fixtureSession, Phone: "+255712345678", Network: "vodacom",
		Echo: providers.Echo{MSISDN: "255712345678", RequestID: requestID},
	}
	if mod != nil {
		mod(&h)
	}
	return h
}

func startHop(h *providers.Hop) { h.Start, h.ReplayKey = true, providers.ReplayKeyStart }

func input(text string) func(*providers.Hop) { return func(h *providers.Hop) { h.Text = text } }

var hopCases = []hopCase{
	{
		label:  "initiate, empty input",
		ct:     jsonType,
		body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001","response":""}}`,
		status: 200,
		hop:    beemHop("r-1001", startHop),
	},
	{
		label:  "initiate without response",
		ct:     jsonType,
		body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001"}}`,
		status: 200,
		hop:    beemHop("r-1001", startHop),
	},
	{
		label:  "initiate carrying a dial string",
		ct:     jsonType,
		body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001","response":"*150*88*1*12345678#"}}`,
		status: 200,
		hop:    beemHop("r-1001", func(h *providers.Hop) { startHop(h); h.Dialled = "*150*88*1*12345678#" }),
	},
	{
		label:  "continue",
		ct:     jsonType,
		body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		status: 200,
		hop:    beemHop("r-1002", input("1")),
	},
	{
		label:  "continue in capitals, other order, other operator, unknown member",
		ct:     "application/json; charset=utf-8",
		body:   `{"payload":{"response":"12345678","request_id":"r-1003"},"command":"Continue","operator":"tigo","msisdn":"255712345678","session_id":"beem-3f9d2c71","timestamp":"2026-03-01T10:00:00Z"}`,
		status: 200,
		hop:    beemHop("r-1003", func(h *providers.Hop) { h.Text, h.Network = "12345678", "tigo" }),
	},
	{
		label:  "terminate",
		ct:     jsonType,
		body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"terminate","payload":{"request_id":"r-1004","response":""}}`,
		status: 200,
		hop:    beemHop("r-1004", func(h *providers.Hop) { h.End = true }),
	},
	{
		label:  "terminate with only session_id and command",
		ct:     jsonType,
		body:   `{"session_id":"beem-3f9d2c71","command":"terminate"}`,
		status: 200,
		hop:    providers.Hop{Provider: Name, SessionID: fixtureSession, End: true},
	},
	{
		label:   "missing command",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","payload":{"request_id":"r-1002","response":"1"}}`,
		status:  400,
		errText: "missing command",
	},
	{
		label:   "unknown command",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"redirect","payload":{"request_id":"r-1002","response":"1"}}`,
		status:  400,
		errText: `unsupported command "redirect"`,
	},
	{
		label:   "missing payload",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue"}`,
		status:  400,
		errText: "missing payload.request_id",
	},
	{
		label:   "payload as a string",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":"1"}`,
		status:  400,
		errText: "payload is a string, want an object",
	},
	{
		label:   "request_id as a number",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":1002,"response":"1"}}`,
		status:  400,
		errText: "request_id is a number",
	},
	{
		label:   "response repeated inside payload",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1","RESPONSE":"2"}}`,
		status:  400,
		errText: "payload: ",
	},
	{
		label:   "missing session_id",
		ct:      jsonType,
		body:    `{"msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		status:  400,
		errText: "missing session_id",
	},
	{
		label:   "missing msisdn on continue",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		status:  400,
		errText: "missing phone number",
	},
	{
		label:   "local msisdn with letters",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"0712-345-678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		status:  400,
		errText: "malformed msisdn",
	},
	{
		label:   "invalid UTF-8",
		ct:      jsonType,
		body:    "{\"session_id\":\"beem-3f9d2c71\",\"msisdn\":\"255712345678\",\"operator\":\"vodacom\",\"command\":\"continue\",\"payload\":{\"request_id\":\"r-1002\",\"response\":\"\xfe\"}}",
		status:  400,
		errText: "not valid UTF-8",
	},
	{
		label:   "form-encoded",
		ct:      "application/x-www-form-urlencoded",
		body:    "session_id=beem-3f9d2c71&msisdn=255712345678&command=continue",
		status:  400,
		errText: "content type",
	},
	{
		label:   "empty body",
		ct:      jsonType,
		status:  400,
		errText: "empty body",
	},
	{
		label:   "body over the gateway's limit",
		ct:      jsonType,
		body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"` + strings.Repeat("1", 5000) + `"}}`,
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	for _, tc := range hopCases {
		t.Run(tc.label, func(t *testing.T) {
			hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/beem/tok", tc.ct, tc.body, tc.limit))
			if got := pt.StatusOf(err); got != tc.status {
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

func parse(t *testing.T, body string) providers.Hop {
	t.Helper()
	hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/beem/tok", jsonType, body, 0))
	if err != nil {
		t.Fatal(err)
	}
	return hop
}

// request_id is echoed but not trusted as a replay key (its uniqueness per hop
// is unverified): a retry is recognised by the start key or the gateway's
// count, whatever request_id it carries.
func TestReplayKey(t *testing.T) {
	a := parse(t, `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`)
	b := parse(t, `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`)
	if a.ReplayKey != "" || a.KeyAt(1) != b.KeyAt(1) || a.KeyAt(1) == a.KeyAt(2) {
		t.Errorf("keys %q %q %q", a.KeyAt(1), b.KeyAt(1), a.KeyAt(2))
	}
	s := parse(t, `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001","response":""}}`)
	if s.KeyAt(0) != providers.ReplayKeyStart || s.KeyAt(1) != providers.ReplayKeyStart {
		t.Errorf("start key %q", s.KeyAt(0))
	}
}

// A membership check through Beem's wire format: initiate, "1" (Check
// membership), the insurance number, terminate.
func TestMembershipWalk(t *testing.T) {
	pt.Walk(t, serviceCode, []pt.Step{
		{
			Hop: parse(t, `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001","response":""}}`),
			Key: providers.ReplayKeyStart,
		},
		{
			Hop:    parse(t, `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`),
			Inputs: []string{"1"},
			Key:    "n:1:1",
		},
		{
			Hop:    parse(t, `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1003","response":"12345678"}}`),
			Inputs: []string{"12345678"},
			Key:    "n:2:12345678",
		},
	})
	end := parse(t, `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"terminate","payload":{"request_id":"r-1004","response":""}}`)
	if _, err := end.Inputs("", false); !errors.Is(err, providers.ErrEnded) {
		t.Errorf("terminate: Inputs err %v, want ErrEnded", err)
	}
}

func TestBody(t *testing.T) {
	for _, tc := range []struct {
		label string
		hop   providers.Hop
		rep   providers.Reply
		body  string
	}{
		{"menu", beemHop("r-1002", input("1")), providers.Reply{Text: "Weka namba ya bima\n0 Rudi  00 Menyu"},
			`{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","request":"Weka namba ya bima\n0 Rudi  00 Menyu"}}`},
		{"result", beemHop("r-1003", input("12345678")), providers.Reply{Text: "Juma K.: bima hai hadi 2026-12-31", End: true},
			`{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"terminate","payload":{"request_id":"r-1003","request":"Juma K.: bima hai hadi 2026-12-31"}}`},
		{"terminate acknowledged", beemHop("r-1004", func(h *providers.Hop) { h.End = true }), providers.Reply{},
			`{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"terminate","payload":{"request_id":"r-1004","request":""}}`},
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
}

var phoneRE = regexp.MustCompile(`^(\+[1-9]\d{5,14}|0\d{5,14}|\+0\d{5,14})$`)

func FuzzParseHop(f *testing.F) {
	for _, tc := range hopCases {
		f.Add([]byte(tc.body), tc.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/beem/tok", ct, string(body), 0))
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > wire.MaxSessionID ||
			len(hop.Echo.RequestID) > wire.MaxRequestID || hop.Accumulated ||
			(!hop.End && (hop.Echo.RequestID == "" || !phoneRE.MatchString(hop.Phone))) {
			t.Errorf("hop %+v", hop)
		}
		if hop.Start != (hop.ReplayKey == providers.ReplayKeyStart) || (hop.Start && hop.End) {
			t.Errorf("start/key mismatch %+v", hop)
		}
		for _, s := range []string{hop.SessionID, hop.Phone, hop.Network, hop.Text, hop.Dialled, hop.Echo.RequestID} {
			if !utf8.ValidString(s) {
				t.Errorf("invalid UTF-8 %q", s)
			}
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		var out struct {
			SessionID string `json:"session_id"`
			Command   string `json:"command"`
			Payload   struct {
				RequestID string `json:"request_id"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(Body(hop, providers.Reply{Text: hop.Text}), &out); err != nil {
			t.Fatalf("Body is not JSON: %v", err)
		}
		if out.SessionID != hop.SessionID || out.Payload.RequestID != hop.Echo.RequestID ||
			(out.Command == CommandTerminate) != hop.End {
			t.Errorf("Body %+v for hop %+v", out, hop)
		}
	})
}
