package nalo

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
	fixtureSession = "16590115252429751"
	jsonType       = "application/json"
	// serviceCode stands in for the gateway's configured code: Nalo sends none.
	serviceCode = "*920*100#"
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

// naloHop is a hop of the fixture session.
func naloHop(mod func(*providers.Hop)) providers.Hop {
	h := providers.Hop{
		Provider: Name, SessionID: fixtureSession, Phone: "+233244123456", Network: "MTN",
		Echo: providers.Echo{Account: "NALOTest", MSISDN: "233244123456"},
	}
	if mod != nil {
		mod(&h)
	}
	return h
}

func start(dialled string) func(*providers.Hop) {
	return func(h *providers.Hop) { h.Start, h.Dialled, h.ReplayKey = true, dialled, providers.ReplayKeyStart }
}

func input(text string) func(*providers.Hop) { return func(h *providers.Hop) { h.Text = text } }

var hopCases = []hopCase{
	{
		label:  "initial dial: MSGTYPE true, USERDATA the dialled string",
		ct:     jsonType,
		body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status: 200,
		hop:    naloHop(start("*920*100#")),
	},
	{
		label:  "initial dial with a pre-dialled route",
		ct:     jsonType,
		body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100*1*12345678#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status: 200,
		hop:    naloHop(start("*920*100*1*12345678#")),
	},
	{
		label:  "later hop: MSGTYPE false, USERDATA the newest input (protocols.md §3.3 fixture)",
		ct:     jsonType,
		body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"3","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status: 200,
		hop:    naloHop(input("3")),
	},
	{
		label:  "other network, members in another order, unknown member ignored",
		ct:     "application/json; charset=UTF-8",
		body:   `{"SESSIONID":"16590115252429751","MSGTYPE":false,"USERDATA":"12345678","MSISDN":"233244123456","USERID":"NALOTest","NETWORK":"AIRTELTIGO","SERVICECODE":"*920*100#"}`,
		status: 200,
		hop:    naloHop(func(h *providers.Hop) { h.Text, h.Network = "12345678", "AIRTELTIGO" }),
	},
	{
		label:  "no NETWORK",
		ct:     jsonType,
		body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"SESSIONID":"16590115252429751"}`,
		status: 200,
		hop:    naloHop(func(h *providers.Hop) { h.Text, h.Network = "1", "" }),
	},
	{
		label:  "empty input",
		ct:     jsonType,
		body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"","MSGTYPE":false,"NETWORK":"VODAFONE","SESSIONID":"16590115252429751"}`,
		status: 200,
		hop:    naloHop(func(h *providers.Hop) { h.Network = "VODAFONE" }),
	},
	{
		label:   "missing MSGTYPE",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "missing MSGTYPE",
	},
	{
		label:   "MSGTYPE as a string",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":"false","NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "MSGTYPE is a string, want a boolean",
	},
	{
		label:   "MSGTYPE null",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":null,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "missing MSGTYPE",
	},
	{
		label:   "missing SESSIONID",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN"}`,
		status:  400,
		errText: "missing SESSIONID",
	},
	{
		label:   "SESSIONID as a number",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":16590115252429751}`,
		status:  400,
		errText: "SESSIONID is a number, want a string",
	},
	{
		label:   "missing USERID",
		ct:      jsonType,
		body:    `{"MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "missing USERID",
	},
	{
		label:   "missing MSISDN",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "missing phone number",
	},
	{
		label:   "MSISDN placeholder from the docs",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233XXXXXXXXX","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "malformed MSISDN",
	},
	{
		label:   "USERDATA as a number",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":3,"MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "USERDATA is a number",
	},
	{
		label:   "USERDATA twice in different case",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751","userData":"2"}`,
		status:  400,
		errText: "repeated member",
	},
	{
		label:   "invalid UTF-8",
		ct:      jsonType,
		body:    "{\"USERID\":\"NALOTest\",\"MSISDN\":\"233244123456\",\"USERDATA\":\"\xc3\x28\",\"MSGTYPE\":false,\"NETWORK\":\"MTN\",\"SESSIONID\":\"16590115252429751\"}",
		status:  400,
		errText: "not valid UTF-8",
	},
	{
		label:   "form-encoded",
		ct:      "application/x-www-form-urlencoded",
		body:    "USERID=NALOTest&MSISDN=233244123456&USERDATA=1&MSGTYPE=false&SESSIONID=16590115252429751",
		status:  400,
		errText: "content type",
	},
	{
		label:   "text/plain JSON",
		ct:      "text/plain",
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		status:  400,
		errText: "content type",
	},
	{
		label:   "truncated JSON",
		ct:      jsonType,
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":fal`,
		status:  400,
		errText: "invalid JSON",
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
		body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"` + strings.Repeat("9", 5000) + `","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	for _, tc := range hopCases {
		t.Run(tc.label, func(t *testing.T) {
			hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/nalo/tok", tc.ct, tc.body, tc.limit))
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
	hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/nalo/tok", jsonType, body, 0))
	if err != nil {
		t.Fatal(err)
	}
	return hop
}

// Nalo numbers nothing: a retried start is replayed by its start key; later
// hops get a key from the gateway's count of answered hops (KeyAt).
func TestReplayKey(t *testing.T) {
	const dial = `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`
	const more = `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"98","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`
	first, retry := parse(t, dial), parse(t, dial)
	if first.ReplayKey != providers.ReplayKeyStart || retry.KeyAt(1) != first.KeyAt(0) {
		t.Errorf("start keys %q and %q, want both %q", first.KeyAt(0), retry.KeyAt(1), providers.ReplayKeyStart)
	}
	a, b := parse(t, more), parse(t, more)
	if a.ReplayKey != "" {
		t.Errorf("later hop ReplayKey %q, want none", a.ReplayKey)
	}
	// Arrived while the original (the 3rd hop, 2 answered before it) was
	// being answered: same key.
	if a.KeyAt(2) != b.KeyAt(2) || a.KeyAt(2) != "n:2:98" {
		t.Errorf("retry keys %q %q", a.KeyAt(2), b.KeyAt(2))
	}
	// "98" again on the next page: a new key.
	if a.KeyAt(3) == a.KeyAt(2) {
		t.Error("the next page's 98 must get a new key")
	}
}

// A membership check through Nalo's wire format: dial, "1" (Check
// membership), the insurance number.
func TestMembershipWalk(t *testing.T) {
	pt.Walk(t, serviceCode, []pt.Step{
		{
			Hop: parse(t, `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`),
			Key: providers.ReplayKeyStart,
		},
		{
			Hop:    parse(t, `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`),
			Inputs: []string{"1"},
			Key:    "n:1:1",
		},
		{
			Hop:    parse(t, `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"12345678","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`),
			Inputs: []string{"12345678"},
			Key:    "n:2:12345678",
		},
	})
	pt.Walk(t, serviceCode, []pt.Step{{
		Hop:    parse(t, `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100*1*12345678#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`),
		Inputs: []string{"1", "12345678"},
		Key:    providers.ReplayKeyStart,
	}})
	// Without the gateway's configured code the route cannot be found: the
	// user gets the main menu.
	pt.Walk(t, "", []pt.Step{{
		Hop: parse(t, `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100*1*12345678#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`),
		Key: providers.ReplayKeyStart,
	}})
}

func TestBody(t *testing.T) {
	hop := naloHop(input("1"))
	for _, tc := range []struct {
		label string
		rep   providers.Reply
		body  string
	}{
		{"menu: MSGTYPE true continues", providers.Reply{Text: "Enter insurance number\n0 Back  00 Menu"},
			`{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Enter insurance number\n0 Back  00 Menu","MSGTYPE":true}`},
		{"result: MSGTYPE false ends", providers.Reply{Text: "Ama K.: covered until 2026-12-31", End: true},
			`{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Ama K.: covered until 2026-12-31","MSGTYPE":false}`},
		{"whitespace trimmed, & kept", providers.Reply{Text: "\n Claims & status \n"},
			`{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Claims & status","MSGTYPE":true}`},
	} {
		t.Run(tc.label, func(t *testing.T) {
			if got := string(Body(hop, tc.rep)); got != tc.body {
				t.Errorf("Body\n got %s\nwant %s", got, tc.body)
			}
			w := httptest.NewRecorder()
			WriteReply(w, hop, tc.rep)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ContentType || w.Body.String() != tc.body {
				t.Errorf("WriteReply: %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
			}
		})
	}
	// MSISDN is echoed exactly as Nalo sent it, not as normalised.
	plus := naloHop(func(h *providers.Hop) { h.Echo.MSISDN = "+233244123456" })
	if got := string(Body(plus, providers.Reply{Text: "x"})); !strings.Contains(got, `"MSISDN":"+233244123456"`) {
		t.Errorf("Body %s", got)
	}
}

var phoneRE = regexp.MustCompile(`^(\+[1-9]\d{5,14}|0\d{5,14}|\+0\d{5,14})$`)

func FuzzParseHop(f *testing.F) {
	for _, tc := range hopCases {
		f.Add([]byte(tc.body), tc.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/nalo/tok", ct, string(body), 0))
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > wire.MaxSessionID ||
			hop.Echo.Account == "" || len(hop.Network) > wire.MaxNetwork || hop.End || hop.Accumulated ||
			!phoneRE.MatchString(hop.Phone) {
			t.Errorf("hop %+v", hop)
		}
		if hop.Start != (hop.ReplayKey == providers.ReplayKeyStart) || (hop.Start && hop.Text != "") || (!hop.Start && hop.Dialled != "") {
			t.Errorf("start/key mismatch %+v", hop)
		}
		for _, s := range []string{hop.SessionID, hop.Text, hop.Dialled, hop.Echo.MSISDN, hop.Echo.Account} {
			if !utf8.ValidString(s) {
				t.Errorf("invalid UTF-8 %q", s)
			}
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		for _, end := range []bool{false, true} {
			var out struct {
				USERID, MSISDN, MSG string
				MSGTYPE             bool
			}
			if err := json.Unmarshal(Body(hop, providers.Reply{Text: hop.Text, End: end}), &out); err != nil {
				t.Fatalf("Body is not JSON: %v", err)
			}
			if out.USERID != hop.Echo.Account || out.MSISDN != hop.Echo.MSISDN || out.MSGTYPE == end {
				t.Errorf("Body %+v for hop %+v", out, hop)
			}
		}
	})
}
