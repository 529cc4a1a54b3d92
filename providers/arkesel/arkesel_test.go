package arkesel

import (
	"encoding/json"
	"strings"
	"testing"

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

// arkeselHop is a hop of the docs/providers.md, "Arkesel" session.
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

var hopCases = []pt.HopCase{
	{
		Label:  "new session: userData the dialled string (docs/providers.md)",
		CT:     jsonType,
		Body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":true,"msisdn":"233507387216","userData":"*928*1#","network":"MTN"}`,
		Status: 200,
		Hop:    arkeselHop(pt.Start("*928*1#")),
	},
	{
		Label:  "new session with a pre-dialled route",
		CT:     jsonType,
		Body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":true,"msisdn":"233507387216","userData":"*928*1*1*12345678#","network":"MTN"}`,
		Status: 200,
		Hop:    arkeselHop(pt.Start("*928*1*1*12345678#")),
	},
	{
		Label:  "later hop: userData the newest input",
		CT:     jsonType,
		Body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		Status: 200,
		Hop:    arkeselHop(pt.Input("1")),
	},
	{
		Label:  "member names in other case and order, charset, unknown member",
		CT:     "application/json;charset=utf-8",
		Body:   `{"NETWORK":"Vodafone","userdata":"2","MSISDN":"233507387216","NewSession":false,"UserID":"NOKWARE","SessionId":"s9","type":"ussd"}`,
		Status: 200,
		Hop:    arkeselHop(func(h *providers.Hop) { h.Text, h.Network = "2", "Vodafone" }),
	},
	{
		Label:  "free text with '*'",
		CT:     jsonType,
		Body:   `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"RC*42","network":"MTN"}`,
		Status: 200,
		Hop:    arkeselHop(pt.Input("RC*42")),
	},
	{
		Label:   "missing newSession",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","userData":"1","network":"MTN"}`,
		Status:  400,
		ErrText: "missing newSession",
	},
	{
		Label:   "newSession as a string",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":"true","msisdn":"233507387216","userData":"*928*1#","network":"MTN"}`,
		Status:  400,
		ErrText: "newSession is a string, want a boolean",
	},
	{
		Label:   "missing sessionID",
		CT:      jsonType,
		Body:    `{"userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		Status:  400,
		ErrText: "missing sessionID",
	},
	{
		Label:   "missing userID",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		Status:  400,
		ErrText: "missing userID",
	},
	{
		Label:   "missing msisdn",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"userData":"1","network":"MTN"}`,
		Status:  400,
		ErrText: "missing phone number",
	},
	{
		Label:   "msisdn as a number",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":233507387216,"userData":"1","network":"MTN"}`,
		Status:  400,
		ErrText: "msisdn is a number",
	},
	{
		Label:   "userData as an array",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":["1"],"network":"MTN"}`,
		Status:  400,
		ErrText: "userData is an array",
	},
	{
		Label:   "sessionID twice",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN","sessionId":"s10"}`,
		Status:  400,
		ErrText: "repeated member",
	},
	{
		Label:   "control character in userID",
		CT:      jsonType,
		Body:    `{"sessionID":"s9","userID":"NOK\u0000WARE","newSession":false,"msisdn":"233507387216","userData":"1","network":"MTN"}`,
		Status:  400,
		ErrText: "control character in userID",
	},
	{
		Label:  "invalid UTF-8 in userData (an encoded surrogate): replaced, for the menus to refuse",
		CT:     jsonType,
		Body:   "{\"sessionID\":\"s9\",\"userID\":\"NOKWARE\",\"newSession\":false,\"msisdn\":\"233507387216\",\"userData\":\"\xed\xa0\x80\",\"network\":\"MTN\"}",
		Status: 200,
		Hop:    arkeselHop(pt.Input("\uFFFD")),
	},
	{
		Label:   "invalid UTF-8 in sessionID",
		CT:      jsonType,
		Body:    "{\"sessionID\":\"s\xed\xa0\x80\",\"userID\":\"NOKWARE\",\"newSession\":false,\"msisdn\":\"233507387216\",\"userData\":\"1\",\"network\":\"MTN\"}",
		Status:  400,
		ErrText: "sessionID is not valid UTF-8",
	},
	{
		Label:   "form-encoded",
		CT:      "application/x-www-form-urlencoded",
		Body:    "sessionID=s9&userID=NOKWARE&newSession=false&msisdn=233507387216&userData=1",
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "JSON null",
		CT:      jsonType,
		Body:    `null`,
		Status:  400,
		ErrText: "not a JSON object",
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
		Body:    `{"sessionID":"s9","userID":"NOKWARE","newSession":false,"msisdn":"233507387216","userData":"` + strings.Repeat("1", 5000) + `","network":"MTN"}`,
		Limit:   4096,
		Status:  413,
		ErrText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	pt.RunHopCases(t, "/ussd/arkesel/tok", hopCases, ParseHop)
}

var parse = pt.Parser(ParseHop, "/ussd/arkesel/tok", jsonType)

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
	hop := arkeselHop(pt.Input("1"))
	pt.RunBodyCases(t, ContentType, []pt.BodyCase{
		{Label: "menu", Hop: hop, Rep: providers.Reply{Text: "Enter insurance number"},
			Body: `{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","message":"Enter insurance number","continueSession":true}`},
		{Label: "result", Hop: hop, Rep: providers.Reply{Text: "Yaw B.: policy expired 2025-06-30", End: true},
			Body: `{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","message":"Yaw B.: policy expired 2025-06-30","continueSession":false}`},
		{Label: "empty END", Hop: hop, Rep: providers.Reply{End: true},
			Body: `{"sessionID":"s9","userID":"NOKWARE","msisdn":"233507387216","message":"","continueSession":false}`},
	}, Body, Provider.USSD)
}

func FuzzParseHop(f *testing.F) {
	pt.FuzzJSONHops(f, "/ussd/arkesel/tok", hopCases, ParseHop, func(t *testing.T, hop providers.Hop) {
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > providers.MaxSessionID ||
			hop.Echo.Account == "" || len(hop.Echo.Account) > wire.MaxAccount || hop.End || hop.Accumulated ||
			!pt.PhoneRE.MatchString(hop.Phone) {
			t.Errorf("hop %+v", hop)
		}
		if hop.Start != (hop.ReplayKey == providers.ReplayKeyStart) || (hop.Start && hop.Text != "") || (!hop.Start && hop.Dialled != "") {
			t.Errorf("start/key mismatch %+v", hop)
		}
		pt.ValidUTF8(t, hop.SessionID, hop.Text, hop.Dialled, hop.Echo.MSISDN, hop.Echo.Account)
	}, func(t *testing.T, hop providers.Hop) {
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
