package hubtel

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

const (
	fixtureSession = "8d440a43a98b4614b9df22b79c8190b8"
	jsonType       = "application/json"
)

// hubtelHop is the hop of the docs/providers.md, "Hubtel" session.
func hubtelHop(seq int, mod func(*providers.Hop)) providers.Hop {
	h := providers.Hop{
		Provider: Name, SessionID: fixtureSession, Phone: "+233246912184", ServiceCode: "714*5",
		Network: "mtn", Seq: seq, ReplayKey: "seq:" + strconv.Itoa(seq),
	}
	if mod != nil {
		mod(&h)
	}
	return h
}

var hopCases = []pt.HopCase{
	{
		Label:  "Initiation, SDK casing (docs/providers.md)",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn","ClientState":"","Sequence":1,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(1, func(h *providers.Hop) { h.Start, h.Dialled = true, "*714*5#" }),
	},
	{
		Label:  "Initiation, readme casing: lower-case type, Sequence as a string",
		CT:     "application/json; charset=utf-8",
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"initiation","Message":"*714*5#","Operator":"mtn","ClientState":"","Sequence":"1","Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(1, func(h *providers.Hop) { h.Start, h.Dialled = true, "*714*5#" }),
	},
	{
		Label:  "Initiation with a pre-dialled route *714*5*1*12345678#",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5*1*12345678#","Operator":"mtn","ClientState":"","Sequence":1,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(1, func(h *providers.Hop) { h.Start, h.Dialled = true, "*714*5*1*12345678#" }),
	},
	{
		Label:  "Initiation, newer operator name, no Platform, no ClientState",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"vodafone-gh","Sequence":1}`,
		Status: 200,
		Hop: hubtelHop(1, func(h *providers.Hop) {
			h.Start, h.Dialled, h.Network = true, "*714*5#", "vodafone-gh"
		}),
	},
	{
		Label:  "Response",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(2, func(h *providers.Hop) { h.Text = "1" }),
	},
	{
		Label:  "Response in capitals, members in another order, unknown members ignored",
		CT:     jsonType,
		Body:   `{"Sequence":3,"Type":"RESPONSE","Message":"12345678","ExtraData":{"x":[1,2]},"Mobile":"233246912184","SessionId":"8d440a43a98b4614b9df22b79c8190b8","ServiceCode":"714*5","Operator":"mtn","Platform":"ussd","ClientState":null}`,
		Status: 200,
		Hop:    hubtelHop(3, func(h *providers.Hop) { h.Text = "12345678" }),
	},
	{
		Label:  "Response with camelCase member names",
		CT:     jsonType,
		Body:   `{"sessionId":"8d440a43a98b4614b9df22b79c8190b8","mobile":"233246912184","serviceCode":"714*5","type":"response","message":"2","operator":"mtn","clientState":"","sequence":2,"platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(2, func(h *providers.Hop) { h.Text = "2" }),
	},
	{
		Label:  "Response, free text with '*' and non-ASCII",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"Kwame*Ménsah","Operator":"mtn","ClientState":"","Sequence":4,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(4, func(h *providers.Hop) { h.Text = "Kwame*Ménsah" }),
	},
	{
		Label:  "Response, empty input",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(2, nil),
	},
	{
		Label:  "Mobile already with '+'",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"+233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(2, func(h *providers.Hop) { h.Text = "1" }),
	},
	{
		Label:  "Release: the user ended the session",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Release","Message":"","Operator":"mtn","ClientState":"","Sequence":3,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(3, func(h *providers.Hop) { h.End = true }),
	},
	{
		Label:  "Timeout: we answered too late",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"timeout","Message":"","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		Status: 200,
		Hop:    hubtelHop(2, func(h *providers.Hop) { h.End = true }),
	},
	{
		Label:  "Release with only SessionId and Type",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release"}`,
		Status: 200,
		Hop:    providers.Hop{Provider: Name, SessionID: fixtureSession, End: true},
	},
	{
		Label:  "Initiation without Sequence: keyed as a start",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn"}`,
		Status: 200,
		Hop: hubtelHop(0, func(h *providers.Hop) {
			h.Start, h.Dialled, h.Seq, h.ReplayKey = true, "*714*5#", 0, providers.ReplayKeyStart
		}),
	},
	{
		Label:  "Response without Sequence: no key of its own",
		CT:     jsonType,
		Body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Operator":"mtn","Sequence":""}`,
		Status: 200,
		Hop:    hubtelHop(0, func(h *providers.Hop) { h.Text, h.Seq, h.ReplayKey = "1", 0, "" }),
	},
	{
		Label:   "missing SessionId",
		CT:      jsonType,
		Body:    `{"Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn","Sequence":1}`,
		Status:  400,
		ErrText: "missing SessionId",
	},
	{
		Label:   "missing Mobile",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn","Sequence":1}`,
		Status:  400,
		ErrText: "missing phone number",
	},
	{
		Label:   "Mobile with letters",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233XXXXXXXXX","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: "malformed Mobile",
	},
	{
		Label:   "missing Type",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: "missing Type",
	},
	{
		Label:   "app-channel Type",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"AddToCart","Message":"1","Sequence":2,"Platform":"Hubtel-App"}`,
		Status:  400,
		ErrText: "not USSD",
	},
	{
		Label:   "unknown Type",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Query","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: `unsupported Type "Query"`,
	},
	{
		Label:   "Platform Web",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"Platform":"Web"}`,
		Status:  400,
		ErrText: `platform "Web" is not USSD`,
	},
	{
		Label:   "Sequence as a boolean",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":true}`,
		Status:  400,
		ErrText: "Sequence is a boolean",
	},
	{
		Label:   "Sequence with a fraction",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2.5}`,
		Status:  400,
		ErrText: "not a count",
	},
	{
		Label:   "negative Sequence",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":"-2"}`,
		Status:  400,
		ErrText: "not a count",
	},
	{
		Label:   "Message as a number",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":1,"Sequence":2}`,
		Status:  400,
		ErrText: "Message is a number, want a string",
	},
	{
		Label:   "Mobile as a number",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":233246912184,"ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: "Mobile is a number",
	},
	{
		Label:   "ClientState as an object",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"ClientState":{}}`,
		Status:  400,
		ErrText: "ClientState is an object",
	},
	{
		Label:   "SessionId twice in different case",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"sessionId":"other"}`,
		Status:  400,
		ErrText: "repeated member",
	},
	{
		Label:   "Message twice",
		CT:      jsonType,
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"Message":"2"}`,
		Status:  400,
		ErrText: "repeated member",
	},
	{
		Label:   "escaped newline in SessionId",
		CT:      jsonType,
		Body:    `{"SessionId":"8d44\nfake log line","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: "control character in SessionId",
	},
	{
		Label:   "raw newline inside a JSON string",
		CT:      jsonType,
		Body:    "{\"SessionId\":\"8d44\nfake\",\"Mobile\":\"233246912184\",\"Type\":\"Response\",\"Message\":\"1\",\"Sequence\":2}",
		Status:  400,
		ErrText: "invalid JSON",
	},
	{
		Label:   "escaped control character in SessionId",
		CT:      jsonType,
		Body:    `{"SessionId":"8d44\u001b[2J","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: "control character in SessionId",
	},
	{
		Label:   "SessionId longer than 128 bytes",
		CT:      jsonType,
		Body:    `{"SessionId":"` + strings.Repeat("8", 129) + `","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: "SessionId longer than 128 bytes",
	},
	{
		Label:  "invalid UTF-8 in Message: replaced, for the menus to refuse",
		CT:     jsonType,
		Body:   "{\"SessionId\":\"8d440a43a98b4614b9df22b79c8190b8\",\"Mobile\":\"233246912184\",\"ServiceCode\":\"714*5\",\"Type\":\"Response\",\"Message\":\"1\xff\xfe2\",\"Operator\":\"mtn\",\"Sequence\":2}",
		Status: 200,
		Hop:    hubtelHop(2, pt.Input("1\uFFFD2")),
	},
	{
		Label:  "invalid UTF-8 in an Initiation's dial string: replaced",
		CT:     jsonType,
		Body:   "{\"SessionId\":\"8d440a43a98b4614b9df22b79c8190b8\",\"Mobile\":\"233246912184\",\"ServiceCode\":\"714*5\",\"Type\":\"Initiation\",\"Message\":\"*714*5*\xc3\x28#\",\"Operator\":\"mtn\",\"Sequence\":1}",
		Status: 200,
		Hop:    hubtelHop(1, func(h *providers.Hop) { h.Start, h.Dialled = true, "*714*5*\uFFFD(#" }),
	},
	{
		Label:   "invalid UTF-8 in SessionId",
		CT:      jsonType,
		Body:    "{\"SessionId\":\"8d440a43\xff\",\"Mobile\":\"233246912184\",\"ServiceCode\":\"714*5\",\"Type\":\"Response\",\"Message\":\"1\",\"Sequence\":2}",
		Status:  400,
		ErrText: "SessionId is not valid UTF-8",
	},
	{
		Label:   "invalid UTF-8 in Mobile",
		CT:      jsonType,
		Body:    "{\"SessionId\":\"8d440a43a98b4614b9df22b79c8190b8\",\"Mobile\":\"23324691218\xb4\",\"ServiceCode\":\"714*5\",\"Type\":\"Response\",\"Message\":\"1\",\"Sequence\":2}",
		Status:  400,
		ErrText: "Mobile is not valid UTF-8",
	},
	{
		Label:   "form-encoded body",
		CT:      "application/x-www-form-urlencoded",
		Body:    "SessionId=8d440a43a98b4614b9df22b79c8190b8&Mobile=233246912184&Type=Response&Message=1&Sequence=2",
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "no content type",
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "not JSON",
		CT:      jsonType,
		Body:    `SessionId=8d440a43a98b4614b9df22b79c8190b8`,
		Status:  400,
		ErrText: "invalid JSON",
	},
	{
		Label:   "an array of requests",
		CT:      jsonType,
		Body:    `[{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","Type":"Response","Message":"1","Sequence":2}]`,
		Status:  400,
		ErrText: "not a JSON object",
	},
	{
		Label:   "two requests in one body",
		CT:      jsonType,
		Body:    `{"SessionId":"a","Mobile":"233246912184","Type":"Response","Message":"1","Sequence":2}{"SessionId":"b"}`,
		Status:  400,
		ErrText: "data after",
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
		Body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"` + strings.Repeat("7", 5000) + `","Sequence":2}`,
		Limit:   4096,
		Status:  413,
		ErrText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	pt.RunHopCases(t, "/ussd/hubtel/tok", hopCases, ParseHop)
}

var parse = pt.Parser(ParseHop, "/ussd/hubtel/tok", jsonType)

// A retried request carries the same Sequence and so the same replay key;
// Sequence as number or string makes no difference.
func TestReplayKey(t *testing.T) {
	a := parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`)
	retry := parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":"2"}`)
	next := parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":3}`)
	if a.ReplayKey != "seq:2" || retry.ReplayKey != a.ReplayKey {
		t.Errorf("retry key %q, original %q, want both seq:2", retry.ReplayKey, a.ReplayKey)
	}
	if next.ReplayKey == a.ReplayKey {
		t.Errorf("the same input on the next hop must get a new key, got %q twice", a.ReplayKey)
	}
	// The key wins over any count the gateway has.
	if a.KeyAt(5) != "seq:2" {
		t.Errorf("KeyAt = %q", a.KeyAt(5))
	}
	// A late Sequence 2 after the session answered 3 hops is stale.
	if !a.Stale(3) || a.Stale(1) {
		t.Errorf("Stale(3) %v Stale(1) %v", a.Stale(3), a.Stale(1))
	}
}

// A membership check through Hubtel's wire format: dial, "1" (Check
// membership), the insurance number.
func TestMembershipWalk(t *testing.T) {
	pt.Walk(t, "", []pt.Step{
		{
			Hop: parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn","ClientState":"","Sequence":1,"Platform":"USSD"}`),
			Key: "seq:1",
		},
		{
			Hop:    parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`),
			Inputs: []string{"1"},
			Key:    "seq:2",
		},
		{
			Hop:    parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"12345678","Operator":"mtn","ClientState":"","Sequence":3,"Platform":"USSD"}`),
			Inputs: []string{"12345678"},
			Key:    "seq:3",
		},
	})
	// The same check dialled in one go.
	pt.Walk(t, "", []pt.Step{{
		Hop:    parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5*1*12345678#","Operator":"mtn","ClientState":"","Sequence":1,"Platform":"USSD"}`),
		Inputs: []string{"1", "12345678"},
		Key:    "seq:1",
	}})
	// Release only ends.
	end := parse(t, `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Release","Message":"","Operator":"mtn","ClientState":"","Sequence":4,"Platform":"USSD"}`)
	if _, err := end.Inputs("", false); !errors.Is(err, providers.ErrEnded) {
		t.Errorf("Release: Inputs err %v, want ErrEnded", err)
	}
}

func TestBody(t *testing.T) {
	hop := hubtelHop(2, func(h *providers.Hop) { h.Text = "1" })
	pt.RunBodyCases(t, "application/json; charset=utf-8", []pt.BodyCase{
		{Label: "menu", Hop: hop, Rep: providers.Reply{Text: "Welcome\n1. Check membership\n0 Back  00 Menu"},
			Body: `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Response","Message":"Welcome\n1. Check membership\n0 Back  00 Menu","ClientState":""}`},
		{Label: "result", Hop: hop, Rep: providers.Reply{Text: "Kofi A.: covered until 2026-12-31", End: true},
			Body: `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release","Message":"Kofi A.: covered until 2026-12-31","ClientState":""}`},
		{Label: "surrounding whitespace dropped, quotes and '<' kept readable", Hop: hop, Rep: providers.Reply{Text: " \n Enter \"insurance\" no. <12 digits>\n"},
			Body: `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Response","Message":"Enter \"insurance\" no. <12 digits>","ClientState":""}`},
		{Label: "UTF-8 kept", Hop: hop, Rep: providers.Reply{Text: "Karibu – नमस्ते", End: true},
			Body: `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release","Message":"Karibu – नमस्ते","ClientState":""}`},
		{Label: "Release acknowledged", Hop: hubtelHop(3, func(h *providers.Hop) { h.End = true }), Rep: providers.Reply{},
			Body: `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release","Message":"","ClientState":""}`},
	}, Body, Provider.USSD)
}

func FuzzParseHop(f *testing.F) {
	pt.FuzzJSONHops(f, "/ussd/hubtel/tok", hopCases, ParseHop, checkHop, func(t *testing.T, hop providers.Hop) {
		for _, rep := range []providers.Reply{{Text: hop.Text}, {Text: hop.Dialled, End: true}} {
			var out map[string]string
			if err := json.Unmarshal(Body(hop, rep), &out); err != nil {
				t.Fatalf("Body is not JSON: %v", err)
			}
			if out["SessionId"] != hop.SessionID || (out["Type"] == TypeRelease) != (rep.End || hop.End) {
				t.Errorf("Body %v for hop %+v, reply %+v", out, hop, rep)
			}
		}
	})
}

func checkHop(t *testing.T, hop providers.Hop) {
	t.Helper()
	if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > providers.MaxSessionID ||
		len(hop.ServiceCode) > wire.MaxServiceCode || len(hop.Network) > wire.MaxNetwork || hop.Accumulated {
		t.Errorf("hop %+v", hop)
	}
	if !hop.End && !pt.PhoneRE.MatchString(hop.Phone) {
		t.Errorf("Phone %q", hop.Phone)
	}
	if n := b2i(hop.Start) + b2i(hop.End) + b2i(hop.Text != ""); n > 1 {
		t.Errorf("hop is more than one of start, end, input: %+v", hop)
	}
	switch {
	case hop.Seq > 0 && hop.ReplayKey != "seq:"+strconv.Itoa(hop.Seq):
		t.Errorf("Seq %d, ReplayKey %q", hop.Seq, hop.ReplayKey)
	case hop.Seq == 0 && hop.Start && hop.ReplayKey != providers.ReplayKeyStart:
		t.Errorf("unnumbered start with ReplayKey %q", hop.ReplayKey)
	case hop.Seq == 0 && !hop.Start && hop.ReplayKey != "":
		t.Errorf("unnumbered hop with ReplayKey %q", hop.ReplayKey)
	}
	pt.ValidUTF8(t, hop.SessionID, hop.Phone, hop.ServiceCode, hop.Network, hop.Text, hop.Dialled)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
