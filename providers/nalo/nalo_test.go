package nalo

import (
	"encoding/json"
	"strings"
	"testing"

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

var hopCases = []pt.HopCase{
	{
		Label:  "initial dial: MSGTYPE true, USERDATA the dialled string",
		CT:     jsonType,
		Body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status: 200,
		Hop:    naloHop(pt.Start("*920*100#")),
	},
	{
		Label:  "initial dial with a pre-dialled route",
		CT:     jsonType,
		Body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"*920*100*1*12345678#","MSGTYPE":true,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status: 200,
		Hop:    naloHop(pt.Start("*920*100*1*12345678#")),
	},
	{
		Label:  "later hop: MSGTYPE false, USERDATA the newest input (docs/providers.md)",
		CT:     jsonType,
		Body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"3","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status: 200,
		Hop:    naloHop(pt.Input("3")),
	},
	{
		Label:  "other network, members in another order, unknown member ignored",
		CT:     "application/json; charset=UTF-8",
		Body:   `{"SESSIONID":"16590115252429751","MSGTYPE":false,"USERDATA":"12345678","MSISDN":"233244123456","USERID":"NALOTest","NETWORK":"AIRTELTIGO","SERVICECODE":"*920*100#"}`,
		Status: 200,
		Hop:    naloHop(func(h *providers.Hop) { h.Text, h.Network = "12345678", "AIRTELTIGO" }),
	},
	{
		Label:  "no NETWORK",
		CT:     jsonType,
		Body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"SESSIONID":"16590115252429751"}`,
		Status: 200,
		Hop:    naloHop(func(h *providers.Hop) { h.Text, h.Network = "1", "" }),
	},
	{
		Label:  "empty input",
		CT:     jsonType,
		Body:   `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"","MSGTYPE":false,"NETWORK":"VODAFONE","SESSIONID":"16590115252429751"}`,
		Status: 200,
		Hop:    naloHop(func(h *providers.Hop) { h.Network = "VODAFONE" }),
	},
	{
		Label:   "missing MSGTYPE",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "missing MSGTYPE",
	},
	{
		Label:   "MSGTYPE as a string",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":"false","NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "MSGTYPE is a string, want a boolean",
	},
	{
		Label:   "MSGTYPE null",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":null,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "missing MSGTYPE",
	},
	{
		Label:   "missing SESSIONID",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN"}`,
		Status:  400,
		ErrText: "missing SESSIONID",
	},
	{
		Label:   "SESSIONID as a number",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":16590115252429751}`,
		Status:  400,
		ErrText: "SESSIONID is a number, want a string",
	},
	{
		Label:   "missing USERID",
		CT:      jsonType,
		Body:    `{"MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "missing USERID",
	},
	{
		Label:   "missing MSISDN",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "missing phone number",
	},
	{
		Label:   "MSISDN placeholder from the docs",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233XXXXXXXXX","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "malformed MSISDN",
	},
	{
		Label:   "USERDATA as a number",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":3,"MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "USERDATA is a number",
	},
	{
		Label:   "USERDATA twice in different case",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751","userData":"2"}`,
		Status:  400,
		ErrText: "repeated member",
	},
	{
		Label:  "invalid UTF-8 in USERDATA: replaced, for the menus to refuse",
		CT:     jsonType,
		Body:   "{\"USERID\":\"NALOTest\",\"MSISDN\":\"233244123456\",\"USERDATA\":\"\xc3\x28\",\"MSGTYPE\":false,\"NETWORK\":\"MTN\",\"SESSIONID\":\"16590115252429751\"}",
		Status: 200,
		Hop:    naloHop(pt.Input("\uFFFD(")),
	},
	{
		Label:   "invalid UTF-8 in USERID",
		CT:      jsonType,
		Body:    "{\"USERID\":\"NALO\xc3\x28\",\"MSISDN\":\"233244123456\",\"USERDATA\":\"1\",\"MSGTYPE\":false,\"NETWORK\":\"MTN\",\"SESSIONID\":\"16590115252429751\"}",
		Status:  400,
		ErrText: "USERID is not valid UTF-8",
	},
	{
		Label:   "MSISDN padded beyond 32 bytes (it is echoed and stored)",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456` + strings.Repeat(" ", 40) + `","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "MSISDN longer than 32 bytes",
	},
	{
		Label:   "form-encoded",
		CT:      "application/x-www-form-urlencoded",
		Body:    "USERID=NALOTest&MSISDN=233244123456&USERDATA=1&MSGTYPE=false&SESSIONID=16590115252429751",
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "text/plain JSON",
		CT:      "text/plain",
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Status:  400,
		ErrText: "content type",
	},
	{
		Label:   "truncated JSON",
		CT:      jsonType,
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"1","MSGTYPE":fal`,
		Status:  400,
		ErrText: "invalid JSON",
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
		Body:    `{"USERID":"NALOTest","MSISDN":"233244123456","USERDATA":"` + strings.Repeat("9", 5000) + `","MSGTYPE":false,"NETWORK":"MTN","SESSIONID":"16590115252429751"}`,
		Limit:   4096,
		Status:  413,
		ErrText: "request body too large",
	},
}

func TestParseHop(t *testing.T) {
	pt.RunHopCases(t, "/ussd/nalo/tok", hopCases, ParseHop)
}

var parse = pt.Parser(ParseHop, "/ussd/nalo/tok", jsonType)

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
	hop := naloHop(pt.Input("1"))
	pt.RunBodyCases(t, ContentType, []pt.BodyCase{
		{Label: "menu: MSGTYPE true continues", Hop: hop, Rep: providers.Reply{Text: "Enter insurance number\n0 Back  00 Menu"},
			Body: `{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Enter insurance number\n0 Back  00 Menu","MSGTYPE":true}`},
		{Label: "result: MSGTYPE false ends", Hop: hop, Rep: providers.Reply{Text: "Ama K.: covered until 2026-12-31", End: true},
			Body: `{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Ama K.: covered until 2026-12-31","MSGTYPE":false}`},
		{Label: "whitespace trimmed, & kept", Hop: hop, Rep: providers.Reply{Text: "\n Claims & status \n"},
			Body: `{"USERID":"NALOTest","MSISDN":"233244123456","MSG":"Claims & status","MSGTYPE":true}`},
	}, Body, Provider.USSD)
	// MSISDN is echoed exactly as Nalo sent it, not as normalised.
	plus := naloHop(func(h *providers.Hop) { h.Echo.MSISDN = "+233244123456" })
	if got := string(Body(plus, providers.Reply{Text: "x"})); !strings.Contains(got, `"MSISDN":"+233244123456"`) {
		t.Errorf("Body %s", got)
	}
}

func FuzzParseHop(f *testing.F) {
	pt.FuzzJSONHops(f, "/ussd/nalo/tok", hopCases, ParseHop, func(t *testing.T, hop providers.Hop) {
		if hop.Provider != Name || hop.SessionID == "" || len(hop.SessionID) > providers.MaxSessionID ||
			hop.Echo.Account == "" || len(hop.Network) > wire.MaxNetwork || hop.End || hop.Accumulated ||
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
