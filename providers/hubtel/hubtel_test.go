package hubtel

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

const (
	fixtureSession = "8d440a43a98b4614b9df22b79c8190b8"
	jsonType       = "application/json"
)

// hopCase is one request as Hubtel sends it. status is what the gateway
// answers for the error ParseHop returns: 200 means hop is expected.
type hopCase struct {
	label   string
	ct      string
	body    string
	limit   int64
	status  int
	errText string
	hop     providers.Hop
}

// hubtelHop is the hop of the protocols.md §3.1 fixture session.
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

var hopCases = []hopCase{
	{
		label:  "Initiation, SDK casing (protocols.md §3.1 fixture)",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn","ClientState":"","Sequence":1,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(1, func(h *providers.Hop) { h.Start, h.Dialled = true, "*714*5#" }),
	},
	{
		label:  "Initiation, readme casing: lower-case type, Sequence as a string",
		ct:     "application/json; charset=utf-8",
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"initiation","Message":"*714*5#","Operator":"mtn","ClientState":"","Sequence":"1","Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(1, func(h *providers.Hop) { h.Start, h.Dialled = true, "*714*5#" }),
	},
	{
		label:  "Initiation with a pre-dialled route *714*5*1*12345678#",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5*1*12345678#","Operator":"mtn","ClientState":"","Sequence":1,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(1, func(h *providers.Hop) { h.Start, h.Dialled = true, "*714*5*1*12345678#" }),
	},
	{
		label:  "Initiation, newer operator name, no Platform, no ClientState",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"vodafone-gh","Sequence":1}`,
		status: 200,
		hop: hubtelHop(1, func(h *providers.Hop) {
			h.Start, h.Dialled, h.Network = true, "*714*5#", "vodafone-gh"
		}),
	},
	{
		label:  "Response",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(2, func(h *providers.Hop) { h.Text = "1" }),
	},
	{
		label:  "Response in capitals, members in another order, unknown members ignored",
		ct:     jsonType,
		body:   `{"Sequence":3,"Type":"RESPONSE","Message":"12345678","ExtraData":{"x":[1,2]},"Mobile":"233246912184","SessionId":"8d440a43a98b4614b9df22b79c8190b8","ServiceCode":"714*5","Operator":"mtn","Platform":"ussd","ClientState":null}`,
		status: 200,
		hop:    hubtelHop(3, func(h *providers.Hop) { h.Text = "12345678" }),
	},
	{
		label:  "Response with camelCase member names",
		ct:     jsonType,
		body:   `{"sessionId":"8d440a43a98b4614b9df22b79c8190b8","mobile":"233246912184","serviceCode":"714*5","type":"response","message":"2","operator":"mtn","clientState":"","sequence":2,"platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(2, func(h *providers.Hop) { h.Text = "2" }),
	},
	{
		label:  "Response, free text with '*' and non-ASCII",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"Kwame*Ménsah","Operator":"mtn","ClientState":"","Sequence":4,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(4, func(h *providers.Hop) { h.Text = "Kwame*Ménsah" }),
	},
	{
		label:  "Response, empty input",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(2, nil),
	},
	{
		label:  "Mobile already with '+'",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"+233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(2, func(h *providers.Hop) { h.Text = "1" }),
	},
	{
		label:  "Release: the user ended the session",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Release","Message":"","Operator":"mtn","ClientState":"","Sequence":3,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(3, func(h *providers.Hop) { h.End = true }),
	},
	{
		label:  "Timeout: we answered too late",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"timeout","Message":"","Operator":"mtn","ClientState":"","Sequence":2,"Platform":"USSD"}`,
		status: 200,
		hop:    hubtelHop(2, func(h *providers.Hop) { h.End = true }),
	},
	{
		label:  "Release with only SessionId and Type",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release"}`,
		status: 200,
		hop:    providers.Hop{Provider: Name, SessionID: fixtureSession, End: true},
	},
	{
		label:  "Initiation without Sequence: keyed as a start",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn"}`,
		status: 200,
		hop: hubtelHop(0, func(h *providers.Hop) {
			h.Start, h.Dialled, h.Seq, h.ReplayKey = true, "*714*5#", 0, providers.ReplayKeyStart
		}),
	},
	{
		label:  "Response without Sequence: no key of its own",
		ct:     jsonType,
		body:   `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Operator":"mtn","Sequence":""}`,
		status: 200,
		hop:    hubtelHop(0, func(h *providers.Hop) { h.Text, h.Seq, h.ReplayKey = "1", 0, "" }),
	},
	{
		label:   "missing SessionId",
		ct:      jsonType,
		body:    `{"Mobile":"233246912184","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn","Sequence":1}`,
		status:  400,
		errText: "missing SessionId",
	},
	{
		label:   "missing Mobile",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","ServiceCode":"714*5","Type":"Initiation","Message":"*714*5#","Operator":"mtn","Sequence":1}`,
		status:  400,
		errText: "missing phone number",
	},
	{
		label:   "Mobile with letters",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233XXXXXXXXX","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		status:  400,
		errText: "malformed Mobile",
	},
	{
		label:   "missing Type",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Message":"1","Sequence":2}`,
		status:  400,
		errText: "missing Type",
	},
	{
		label:   "app-channel Type",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"AddToCart","Message":"1","Sequence":2,"Platform":"Hubtel-App"}`,
		status:  400,
		errText: "not USSD",
	},
	{
		label:   "unknown Type",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Query","Message":"1","Sequence":2}`,
		status:  400,
		errText: `unsupported Type "Query"`,
	},
	{
		label:   "Platform Web",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"Platform":"Web"}`,
		status:  400,
		errText: `platform "Web" is not USSD`,
	},
	{
		label:   "Sequence as a boolean",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":true}`,
		status:  400,
		errText: "Sequence is a boolean",
	},
	{
		label:   "Sequence with a fraction",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2.5}`,
		status:  400,
		errText: "not a count",
	},
	{
		label:   "negative Sequence",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":"-2"}`,
		status:  400,
		errText: "not a count",
	},
	{
		label:   "Message as a number",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":1,"Sequence":2}`,
		status:  400,
		errText: "Message is a number, want a string",
	},
	{
		label:   "Mobile as a number",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":233246912184,"ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		status:  400,
		errText: "Mobile is a number",
	},
	{
		label:   "ClientState as an object",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"ClientState":{}}`,
		status:  400,
		errText: "ClientState is an object",
	},
	{
		label:   "SessionId twice in different case",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"sessionId":"other"}`,
		status:  400,
		errText: "repeated member",
	},
	{
		label:   "Message twice",
		ct:      jsonType,
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2,"Message":"2"}`,
		status:  400,
		errText: "repeated member",
	},
	{
		label:   "escaped newline in SessionId",
		ct:      jsonType,
		body:    `{"SessionId":"8d44\nfake log line","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		status:  400,
		errText: "control character in SessionId",
	},
	{
		label:   "raw newline inside a JSON string",
		ct:      jsonType,
		body:    "{\"SessionId\":\"8d44\nfake\",\"Mobile\":\"233246912184\",\"Type\":\"Response\",\"Message\":\"1\",\"Sequence\":2}",
		status:  400,
		errText: "invalid JSON",
	},
	{
		label:   "escaped control character in SessionId",
		ct:      jsonType,
		body:    `{"SessionId":"8d44\u001b[2J","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		status:  400,
		errText: "control character in SessionId",
	},
	{
		label:   "SessionId longer than 128 bytes",
		ct:      jsonType,
		body:    `{"SessionId":"` + strings.Repeat("8", 129) + `","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		status:  400,
		errText: "SessionId longer than 128 bytes",
	},
	{
		label:   "invalid UTF-8 in Message",
		ct:      jsonType,
		body:    "{\"SessionId\":\"8d440a43a98b4614b9df22b79c8190b8\",\"Mobile\":\"233246912184\",\"ServiceCode\":\"714*5\",\"Type\":\"Response\",\"Message\":\"\xff\",\"Sequence\":2}",
		status:  400,
		errText: "not valid UTF-8",
	},
	{
		label:   "form-encoded body",
		ct:      "application/x-www-form-urlencoded",
		body:    "SessionId=8d440a43a98b4614b9df22b79c8190b8&Mobile=233246912184&Type=Response&Message=1&Sequence=2",
		status:  400,
		errText: "content type",
	},
	{
		label:   "no content type",
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"1","Sequence":2}`,
		status:  400,
		errText: "content type",
	},
	{
		label:   "not JSON",
		ct:      jsonType,
		body:    `SessionId=8d440a43a98b4614b9df22b79c8190b8`,
		status:  400,
		errText: "invalid JSON",
	},
	{
		label:   "an array of requests",
		ct:      jsonType,
		body:    `[{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","Type":"Response","Message":"1","Sequence":2}]`,
		status:  400,
		errText: "not a JSON object",
	},
	{
		label:   "two requests in one body",
		ct:      jsonType,
		body:    `{"SessionId":"a","Mobile":"233246912184","Type":"Response","Message":"1","Sequence":2}{"SessionId":"b"}`,
		status:  400,
		errText: "data after",
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
		body:    `{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Mobile":"233246912184","ServiceCode":"714*5","Type":"Response","Message":"` + strings.Repeat("7", 5000) + `","Sequence":2}`,
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	for _, tc := range hopCases {
		t.Run(tc.label, func(t *testing.T) {
			hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/hubtel/tok", tc.ct, tc.body, tc.limit))
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
	hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/hubtel/tok", jsonType, body, 0))
	if err != nil {
		t.Fatal(err)
	}
	return hop
}

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
	for _, tc := range []struct {
		label string
		hop   providers.Hop
		rep   providers.Reply
		body  string
	}{
		{"menu", hop, providers.Reply{Text: "Welcome\n1. Check membership\n0 Back  00 Menu"},
			`{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Response","Message":"Welcome\n1. Check membership\n0 Back  00 Menu","ClientState":""}`},
		{"result", hop, providers.Reply{Text: "Kofi A.: covered until 2026-12-31", End: true},
			`{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release","Message":"Kofi A.: covered until 2026-12-31","ClientState":""}`},
		{"surrounding whitespace dropped, quotes and '<' kept readable", hop, providers.Reply{Text: " \n Enter \"insurance\" no. <12 digits>\n"},
			`{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Response","Message":"Enter \"insurance\" no. <12 digits>","ClientState":""}`},
		{"UTF-8 kept", hop, providers.Reply{Text: "Karibu – नमस्ते", End: true},
			`{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release","Message":"Karibu – नमस्ते","ClientState":""}`},
		{"Release acknowledged", hubtelHop(3, func(h *providers.Hop) { h.End = true }), providers.Reply{},
			`{"SessionId":"8d440a43a98b4614b9df22b79c8190b8","Type":"Release","Message":"","ClientState":""}`},
	} {
		t.Run(tc.label, func(t *testing.T) {
			if got := string(Body(tc.hop, tc.rep)); got != tc.body {
				t.Errorf("Body\n got %s\nwant %s", got, tc.body)
			}
			w := httptest.NewRecorder()
			WriteReply(w, tc.hop, tc.rep)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json; charset=utf-8" || w.Body.String() != tc.body {
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
		hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/hubtel/tok", ct, string(body), 0))
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		checkHop(t, hop)
		// Whatever was accepted is one JSON object encoding/json accepts too.
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
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
	if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > wire.MaxSessionID ||
		len(hop.ServiceCode) > wire.MaxServiceCode || len(hop.Network) > wire.MaxNetwork || hop.Accumulated {
		t.Errorf("hop %+v", hop)
	}
	if !hop.End && !phoneRE.MatchString(hop.Phone) {
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
	for _, s := range []string{hop.SessionID, hop.Phone, hop.ServiceCode, hop.Network, hop.Text, hop.Dialled} {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 %q", s)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
