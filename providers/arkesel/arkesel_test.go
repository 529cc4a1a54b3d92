package arkesel

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
	fixtureSession = "s9"
	jsonType       = "application/json"
	// serviceCode stands in for the gateway's configured code: Arkesel sends none.
	serviceCode = "*928*1#"
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

// arkeselHop is a hop of the protocols.md §3.4 fixture session.
func arkeselHop(mod func(*providers.Hop)) providers.Hop {
	h := providers.Hop{
		Provider: Name, SessionID: fixtureSession, Phone: "+233507387216", Network: "MTN",
		Echo: providers.Echo{Account: "NOKWARE", MSISDN: "233507387216"},
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
		label:  "new session: userData the dialled string (protocols.md §3.4 fixture)",
		ct:     jsonType,
		body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":true,"msisdn":"233507387216","userData":"*928*1#","network":"MTN"}`,
		status: 200,
		hop:    arkeselHop(start("*928*1#")),
	},
	{
		label:  "new session with a pre-dialled route",
		ct:     jsonType,
		body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":true,"msisdn":"233507387216","userData":"*928*1*1*12345678#","network":"MTN"}`,
		status: 200,
		hop:    arkeselHop(start("*928*1*1*12345678#")),
	},
	{
		label:  "later hop: userData the newest input",
		ct:     jsonType,
		body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		status: 200,
		hop:    arkeselHop(input("1")),
	},
	{
		label:  "member names in other case and order, charset, unknown member",
		ct:     "application/json;charset=utf-8",
		body:   `{"NETWORK":"Vodafone","userdata":"2","MSISDN":"233507387216","NewSession":false,"UserID":"NOKWARE","SessionId":"s9","type":"ussd"}`,
		status: 200,
		hop:    arkeselHop(func(h *providers.Hop) { h.Text, h.Network = "2", "Vodafone" }),
	},
	{
		label:  "free text with '*'",
		ct:     jsonType,
		body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"RC*42","network":"MTN"}`,
		status: 200,
		hop:    arkeselHop(input("RC*42")),
	},
	{
		label:   "missing newSession",
		ct:      jsonType,
		body:    `{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","userData":"1","network":"MTN"}`,
		status:  400,
		errText: "missing newSession",
	},
	{
		label:   "newSession as a string",
		ct:      jsonType,
		body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":"true","msisdn":"233507387216","userData":"*928*1#","network":"MTN"}`,
		status:  400,
		errText: "newSession is a string, want a boolean",
	},
	{
		label:   "missing sessionID",
		ct:      jsonType,
		body:    `{"userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		status:  400,
		errText: "missing sessionID",
	},
	{
		label:   "missing userID",
		ct:      jsonType,
		body:    `{"sessionID":"s9","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		status:  400,
		errText: "missing userID",
	},
	{
		label:   "missing msisdn",
		ct:      jsonType,
		body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"userData":"1","network":"MTN"}`,
		status:  400,
		errText: "missing phone number",
	},
	{
		label:   "msisdn as a number",
		ct:      jsonType,
		body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":233507387216,"userData":"1","network":"MTN"}`,
		status:  400,
		errText: "msisdn is a number",
	},
	{
		label:   "userData as an array",
		ct:      jsonType,
		body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":["1"],"network":"MTN"}`,
		status:  400,
		errText: "userData is an array",
	},
	{
		label:   "sessionID twice",
		ct:      jsonType,
		body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN","sessionId":"s10"}`,
		status:  400,
		errText: "repeated member",
	},
	{
		label:   "control character in userID",
		ct:      jsonType,
		body:    `{"sessionID":"s9","userID":"NOK\u0000WARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		status:  400,
		errText: "control character in userID",
	},
	{
		label:   "invalid UTF-8",
		ct:      jsonType,
		body:    "{\"sessionID\":\"s9\",\"userID\":\"NOKWARE\",\"newSession\":false,\"msisdn\":\"233507387216\",\"userData\":\"\xed\xa0\x80\",\"network\":\"MTN\"}",
		status:  400,
		errText: "not valid UTF-8",
	},
	{
		label:   "form-encoded",
		ct:      "application/x-www-form-urlencoded",
		body:    "sessionID=s9&userID=NOKWARE&newSession=false&msisdn=233507387216&userData=1",
		status:  400,
		errText: "content type",
	},
	{
		label:   "JSON null",
		ct:      jsonType,
		body:    `null`,
		status:  400,
		errText: "not a JSON object",
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
		body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"` + strings.Repeat("1", 5000) + `","network":"MTN"}`,
		limit:   4096,
		status:  413,
		errText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	for _, tc := range hopCases {
		t.Run(tc.label, func(t *testing.T) {
			hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/arkesel/tok", tc.ct, tc.body, tc.limit))
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
	hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/arkesel/tok", jsonType, body, 0))
	if err != nil {
		t.Fatal(err)
	}
	return hop
}

func TestReplayKey(t *testing.T) {
	const dial = `{"sessionID":"s9","userID":"NOKWARE","newSession":true,"msisdn":"233507387216","userData":"*928*1#","network":"MTN"}`
	const one = `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`
	if a, b := parse(t, dial), parse(t, dial); a.KeyAt(0) != providers.ReplayKeyStart || b.KeyAt(1) != a.KeyAt(0) {
		t.Errorf("start keys %q %q", a.KeyAt(0), b.KeyAt(1))
	}
	a, b := parse(t, one), parse(t, one)
	if a.ReplayKey != "" || a.KeyAt(1) != b.KeyAt(1) || a.KeyAt(1) == a.KeyAt(2) {
		t.Errorf("keys %q %q %q", a.KeyAt(1), b.KeyAt(1), a.KeyAt(2))
	}
}

// A membership check through Arkesel's wire format: dial, "1" (Check
// membership), the insurance number.
func TestMembershipWalk(t *testing.T) {
	pt.Walk(t, serviceCode, []pt.Step{
		{
			Hop: parse(t, `{"sessionID":"s9","userID":"NOKWARE","newSession":true,"msisdn":"233507387216","userData":"*928*1#","network":"MTN"}`),
			Key: providers.ReplayKeyStart,
		},
		{
			Hop:    parse(t, `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`),
			Inputs: []string{"1"},
			Key:    "n:1:1",
		},
		{
			Hop:    parse(t, `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"12345678","network":"MTN"}`),
			Inputs: []string{"12345678"},
			Key:    "n:2:12345678",
		},
	})
	pt.Walk(t, serviceCode, []pt.Step{{
		Hop:    parse(t, `{"sessionID":"s9","userID":"NOKWARE","newSession":true,"msisdn":"233507387216","userData":"*928*1*1*12345678#","network":"MTN"}`),
		Inputs: []string{"1", "12345678"},
		Key:    providers.ReplayKeyStart,
	}})
}

func TestBody(t *testing.T) {
	hop := arkeselHop(input("1"))
	for _, tc := range []struct {
		label string
		rep   providers.Reply
		body  string
	}{
		{"menu", providers.Reply{Text: "Enter insurance number"},
			`{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","message":"Enter insurance number","continueSession":true}`},
		{"result", providers.Reply{Text: "Yaw B.: policy expired 2025-06-30", End: true},
			`{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","message":"Yaw B.: policy expired 2025-06-30","continueSession":false}`},
		{"empty END", providers.Reply{End: true},
			`{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","message":"","continueSession":false}`},
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
}

var phoneRE = regexp.MustCompile(`^(\+[1-9]\d{5,14}|0\d{5,14}|\+0\d{5,14})$`)

func FuzzParseHop(f *testing.F) {
	for _, tc := range hopCases {
		f.Add([]byte(tc.body), tc.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		hop, err := ParseHop(pt.NewRequest(http.MethodPost, "/ussd/arkesel/tok", ct, string(body), 0))
		if err != nil {
			if !errors.Is(err, providers.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > wire.MaxSessionID ||
			hop.Echo.Account == "" || len(hop.Echo.Account) > wire.MaxAccount || hop.End || hop.Accumulated ||
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
				SessionID       string `json:"sessionID"`
				UserID          string `json:"userID"`
				MSISDN          string `json:"msisdn"`
				ContinueSession bool   `json:"continueSession"`
			}
			if err := json.Unmarshal(Body(hop, providers.Reply{Text: hop.Text, End: end}), &out); err != nil {
				t.Fatalf("Body is not JSON: %v", err)
			}
			if out.SessionID != hop.SessionID || out.UserID != hop.Echo.Account || out.MSISDN != hop.Echo.MSISDN || out.ContinueSession == end {
				t.Errorf("Body %+v for hop %+v", out, hop)
			}
		}
	})
}
