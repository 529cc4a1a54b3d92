package arkesel

import (
	"encoding/json"
	"net/http"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Provider is Arkesel as the gateway serves it: USSD hops on one callback,
// on the configured service code (ARKESEL_SERVICE_CODE).
var Provider = providers.Provider{
	Name:      Name,
	EnvPrefix: "ARKESEL_",
	Title:     "Arkesel",
	USSD: &providers.USSD{
		Routes:           []providers.HTTPRoute{{Method: http.MethodPost, Pattern: "/", Kind: providers.RouteHop}},
		Parse:            ParseHop,
		Render:           Body,
		ContentType:      ContentType,
		NeedsServiceCode: true,
		Client:           providers.Client{Hop: clientHop, Read: readReply},
	},
}

// The aggregator's side of the wire, for the simulators. Arkesel sends no
// end-of-session signal.

func clientHop(c providers.Call) (providers.Request, error) {
	return wire.JSONRequest(http.MethodPost, c.URL, map[string]any{"sessionID": c.Session, "userID": "SIMULATOR",
		"newSession": c.Start, "msisdn": wire.Digits(c.MSISDN), "userData": wire.Typed(c.Input), "network": "MTN"})
}

func readReply(body []byte) (providers.Reply, error) {
	var r struct {
		Message         string `json:"message"`
		ContinueSession bool   `json:"continueSession"`
	}
	err := json.Unmarshal(body, &r)
	return providers.Reply{Text: r.Message, End: !r.ContinueSession}, err
}
