package beem

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Provider is Beem Africa as the gateway serves it: USSD hops, terminate
// included, on one callback, on the configured service code
// (BEEM_SERVICE_CODE).
var Provider = providers.Provider{
	Name:      Name,
	EnvPrefix: "BEEM_",
	Title:     "Beem Africa",
	USSD: &providers.USSD{
		Routes:           []providers.HTTPRoute{{Method: http.MethodPost, Pattern: "/", Kind: providers.RouteHop}},
		Parse:            ParseHop,
		Render:           Body,
		ContentType:      ContentType,
		NeedsServiceCode: true,
		Client:           providers.Client{Hop: clientHop, Hangup: clientHangup, Read: readReply},
	},
}

// The aggregator's side of the wire, for the simulators.

// clientHop sends initiate, which carries no input, then continue.
func clientHop(c providers.Call) (providers.Request, error) {
	command, response := CommandContinue, c.Input
	if c.Start {
		command, response = CommandInitiate, ""
	}
	return wire.JSONRequest(http.MethodPost, c.URL, map[string]any{"session_id": c.Session, "msisdn": wire.Digits(c.MSISDN),
		"operator": "vodacom", "command": command,
		"payload": map[string]any{"request_id": fmt.Sprintf("%s-%d", c.Session, c.Seq), "response": wire.Typed(response)}})
}

func clientHangup(c providers.Call) (providers.Request, error) {
	return wire.JSONRequest(http.MethodPost, c.URL, map[string]any{"session_id": c.Session, "msisdn": wire.Digits(c.MSISDN),
		"operator": "vodacom", "command": CommandTerminate,
		"payload": map[string]string{"request_id": c.Session + "-end", "response": ""}})
}

func readReply(body []byte) (providers.Reply, error) {
	var r struct {
		Command string            `json:"command"`
		Payload map[string]string `json:"payload"`
	}
	err := json.Unmarshal(body, &r)
	return providers.Reply{Text: r.Payload["request"], End: r.Command != CommandContinue}, err
}
