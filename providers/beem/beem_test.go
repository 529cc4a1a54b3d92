package beem

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

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

var hopCases = []pt.HopCase{
	{
		Label:  "initiate, empty input",
		CT:     jsonType,
		Body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001","response":""}}`,
		Status: 200,
		Hop:    beemHop("r-1001", startHop),
	},
	{
		Label:  "initiate without response",
		CT:     jsonType,
		Body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001"}}`,
		Status: 200,
		Hop:    beemHop("r-1001", startHop),
	},
	{
		Label:  "initiate carrying a dial string",
		CT:     jsonType,
		Body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"initiate","payload":{"request_id":"r-1001","response":"*150*88*1*12345678#"}}`,
		Status: 200,
		Hop:    beemHop("r-1001", func(h *providers.Hop) { startHop(h); h.Dialled = "*150*88*1*12345678#" }),
	},
	{
		Label:  "continue",
		CT:     jsonType,
		Body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		Status: 200,
		Hop:    beemHop("r-1002", pt.Input("1")),
	},
	{
		Label:  "continue in capitals, other order, other operator, unknown member",
		CT:     "application/json; charset=utf-8",
		Body:   `{"payload":{"response":"12345678","request_id":"r-1003"},"command":"Continue","operator":"tigo","msisdn":"255712345678","session_id":"beem-3f9d2c71","timestamp":"2026-03-01T10:00:00Z"}`,
		Status: 200,
		Hop:    beemHop("r-1003", func(h *providers.Hop) { h.Text, h.Network = "12345678", "tigo" }),
	},
	{
		Label:  "terminate",
		CT:     jsonType,
		Body:   `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"terminate","payload":{"request_id":"r-1004","response":""}}`,
		Status: 200,
		Hop:    beemHop("r-1004", func(h *providers.Hop) { h.End = true }),
	},
	{
		Label:  "terminate with only session_id and command",
		CT:     jsonType,
		Body:   `{"session_id":"beem-3f9d2c71","command":"terminate"}`,
		Status: 200,
		Hop:    providers.Hop{Provider: Name, SessionID: fixtureSession, End: true},
	},
	{
		Label:   "missing command",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","payload":{"request_id":"r-1002","response":"1"}}`,
		Status:  400,
		ErrText: "missing command",
	},
	{
		Label:   "unknown command",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"redirect","payload":{"request_id":"r-1002","response":"1"}}`,
		Status:  400,
		ErrText: `unsupported command "redirect"`,
	},
	{
		Label:   "missing payload",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue"}`,
		Status:  400,
		ErrText: "missing payload.request_id",
	},
	{
		Label:   "payload as a string",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":"1"}`,
		Status:  400,
		ErrText: "payload is a string, want an object",
	},
	{
		Label:   "request_id as a number",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":1002,"response":"1"}}`,
		Status:  400,
		ErrText: "request_id is a number",
	},
	{
		Label:   "response repeated inside payload",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1","RESPONSE":"2"}}`,
		Status:  400,
		ErrText: "payload: ",
	},
	{
		Label:   "missing session_id",
		CT:      jsonType,
		Body:    `{"msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		Status:  400,
		ErrText: "missing session_id",
	},
	{
		Label:   "missing msisdn on continue",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		Status:  400,
		ErrText: "missing phone number",
	},
	{
		Label:   "local msisdn with letters",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"0712-345-678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"1"}}`,
		Status:  400,
		ErrText: "malformed msisdn",
	},
	{
		Label:  "invalid UTF-8 in payload.response: replaced, for the menus to refuse",
		CT:     jsonType,
		Body:   "{\"session_id\":\"beem-3f9d2c71\",\"msisdn\":\"255712345678\",\"operator\":\"vodacom\",\"command\":\"continue\",\"payload\":{\"request_id\":\"r-1002\",\"response\":\"\xfe\"}}",
		Status: 200,
		Hop:    beemHop("r-1002", pt.Input("\uFFFD")),
	},
	{
		Label:   "invalid UTF-8 in payload.request_id",
		CT:      jsonType,
		Body:    "{\"session_id\":\"beem-3f9d2c71\",\"msisdn\":\"255712345678\",\"operator\":\"vodacom\",\"command\":\"continue\",\"payload\":{\"request_id\":\"r-\xfe\",\"response\":\"1\"}}",
		Status:  400,
		ErrText: "request_id is not valid UTF-8",
	},
	{
		Label:   "form-encoded",
		CT:      "application/x-www-form-urlencoded",
		Body:    "session_id=beem-3f9d2c71&msisdn=255712345678&command=continue",
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "empty body",
		CT:      jsonType,
		Status:  400,
		ErrText: "empty body",
	},
	{
		Label:   "body over the gateway's limit",
		CT:      jsonType,
		Body:    `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","response":"` + strings.Repeat("1", 5000) + `"}}`,
		Limit:   4096,
		Status:  413,
		ErrText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	pt.RunHopCases(t, "/ussd/beem/tok", hopCases, ParseHop)
}

var parse = pt.Parser(ParseHop, "/ussd/beem/tok", jsonType)

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
	pt.RunBodyCases(t, ContentType, []pt.BodyCase{
		{Label: "menu", Hop: beemHop("r-1002", pt.Input("1")), Rep: providers.Reply{Text: "Weka namba ya bima\n0 Rudi  00 Menyu"},
			Body: `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"continue","payload":{"request_id":"r-1002","request":"Weka namba ya bima\n0 Rudi  00 Menyu"}}`},
		{Label: "result", Hop: beemHop("r-1003", pt.Input("12345678")), Rep: providers.Reply{Text: "Juma K.: bima hai hadi 2026-12-31", End: true},
			Body: `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"terminate","payload":{"request_id":"r-1003","request":"Juma K.: bima hai hadi 2026-12-31"}}`},
		{Label: "terminate acknowledged", Hop: beemHop("r-1004", func(h *providers.Hop) { h.End = true }), Rep: providers.Reply{},
			Body: `{"session_id":"beem-3f9d2c71","msisdn":"255712345678","operator":"vodacom","command":"terminate","payload":{"request_id":"r-1004","request":""}}`},
	}, Body, Provider.USSD)
}

func FuzzParseHop(f *testing.F) {
	pt.FuzzJSONHops(f, "/ussd/beem/tok", hopCases, ParseHop, func(t *testing.T, hop providers.Hop) {
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > providers.MaxSessionID ||
			len(hop.Echo.RequestID) > wire.MaxRequestID || hop.Accumulated ||
			(!hop.End && (hop.Echo.RequestID == "" || !pt.PhoneRE.MatchString(hop.Phone))) {
			t.Errorf("hop %+v", hop)
		}
		if hop.Start != (hop.ReplayKey == providers.ReplayKeyStart) || (hop.Start && hop.End) {
			t.Errorf("start/key mismatch %+v", hop)
		}
		pt.ValidUTF8(t, hop.SessionID, hop.Phone, hop.Network, hop.Text, hop.Dialled, hop.Echo.RequestID)
	}, func(t *testing.T, hop providers.Hop) {
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
