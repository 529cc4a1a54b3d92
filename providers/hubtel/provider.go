package hubtel

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Provider is Hubtel as the gateway serves it: USSD hops, Release and
// Timeout included, on one callback.
var Provider = providers.Provider{
	Name:      Name,
	EnvPrefix: "HUBTEL_",
	Title:     "Hubtel",
	USSD: &providers.USSD{
		Routes:      []providers.HTTPRoute{{Method: http.MethodPost, Pattern: "/", Kind: providers.RouteHop}},
		Parse:       ParseHop,
		Render:      Body,
		ContentType: ContentType,
		Client:      providers.Client{Hop: clientHop, Hangup: clientHangup, Read: readReply},
	},
}

// The aggregator's side of the wire, for the simulators.

func clientHop(c providers.Call) (providers.Request, error) {
	typ := TypeResponse
	if c.Start {
		typ = TypeInitiation
	}
	code := strings.TrimSuffix(strings.TrimPrefix(c.ServiceCode, "*"), "#")
	return wire.JSONRequest(http.MethodPost, c.URL, map[string]any{"SessionId": c.Session, "Mobile": wire.Digits(c.MSISDN),
		"ServiceCode": code, "Type": typ, "Message": wire.Typed(c.Input), "Operator": "vodafone", "ClientState": "",
		"Sequence": c.Seq, "Platform": "USSD"})
}

// clientHangup is a Release: the user ended the session.
func clientHangup(c providers.Call) (providers.Request, error) {
	return wire.JSONRequest(http.MethodPost, c.URL, map[string]any{"SessionId": c.Session, "Mobile": wire.Digits(c.MSISDN),
		"Type": TypeRelease, "Message": "", "Sequence": c.Seq, "Platform": "USSD"})
}

func readReply(body []byte) (providers.Reply, error) {
	var r struct{ Type, Message string }
	err := json.Unmarshal(body, &r)
	return providers.Reply{Text: r.Message, End: r.Type != TypeResponse}, err
}
