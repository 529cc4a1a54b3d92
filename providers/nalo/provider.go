package nalo

import (
	"encoding/json"
	"net/http"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Provider is Nalo as the gateway serves it: USSD hops on one callback, on
// the configured service code (NALO_SERVICE_CODE), with screens of at most
// MaxMessage characters.
var Provider = providers.Provider{
	Name:      Name,
	EnvPrefix: "NALO_",
	Title:     "Nalo",
	USSD: &providers.USSD{
		Routes:           []providers.HTTPRoute{{Method: http.MethodPost, Pattern: "/", Kind: providers.RouteHop}},
		Parse:            ParseHop,
		Render:           Body,
		ContentType:      ContentType,
		Budget:           providers.Budget{GSM7: MaxMessage, UCS2: 70},
		NeedsServiceCode: true,
		Client:           providers.Client{Hop: clientHop, Read: readReply},
	},
}

// The aggregator's side of the wire, for the simulators. Nalo sends no
// end-of-session signal.

func clientHop(c providers.Call) (providers.Request, error) {
	return wire.JSONRequest(http.MethodPost, c.URL, map[string]any{"USERID": "SIMULATOR", "MSISDN": wire.Digits(c.MSISDN),
		"USERDATA": wire.Typed(c.Input), "MSGTYPE": c.Start, "NETWORK": "MTN", "SESSIONID": c.Session})
}

func readReply(body []byte) (providers.Reply, error) {
	var r struct {
		MSG     string
		MSGTYPE bool
	}
	err := json.Unmarshal(body, &r)
	return providers.Reply{Text: r.MSG, End: !r.MSGTYPE}, err
}
