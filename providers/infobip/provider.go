package infobip

import (
	"encoding/json"
	"net/http"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Provider is Infobip as the gateway serves it: the session resources
// /session/{id}/start, /response and /end as hops, and /status.
var Provider = providers.Provider{
	Name:      Name,
	EnvPrefix: "INFOBIP_",
	Title:     "Infobip",
	USSD: &providers.USSD{
		Routes: []providers.HTTPRoute{
			{Method: http.MethodPost, Pattern: "/session/{session}/{action:start|response|end}", Kind: providers.RouteHop},
			{Method: http.MethodPut, Pattern: "/session/{session}/{action:end}", Kind: providers.RouteHop},
			{Method: http.MethodGet, Pattern: "/session/{session}/status", Kind: providers.RouteSessionStatus},
		},
		Parse: func(r *http.Request) (providers.Hop, error) {
			return ParseHop(r, r.PathValue("session"), r.PathValue("action"))
		},
		Render:        Body,
		ContentType:   ContentType,
		StatusSession: func(r *http.Request) string { return r.PathValue("session") },
		StatusBody:    StatusBody,
		CallbackNote:  func(string) string { return "(Infobip adds /session/{id}/start|response|end)" },
		Client:        providers.Client{Hop: clientHop, Hangup: clientHangup, Read: readReply},
	},
}

// The aggregator's side of the wire, for the simulators.

func clientHop(c providers.Call) (providers.Request, error) {
	action := ActionResponse
	fields := map[string]any{"msisdn": wire.Digits(c.MSISDN), "text": wire.Typed(c.Input)}
	if c.Start {
		action = ActionStart
		fields["shortCode"] = c.ServiceCode
	}
	return wire.JSONRequest(http.MethodPost, c.URL+"/session/"+c.Session+"/"+action, fields)
}

// clientHangup ends the session as Infobip does: a PUT to /end.
func clientHangup(c providers.Call) (providers.Request, error) {
	return wire.JSONRequest(http.MethodPut, c.URL+"/session/"+c.Session+"/"+ActionEnd,
		map[string]any{"exitCode": 0, "reason": "ok"})
}

func readReply(body []byte) (providers.Reply, error) {
	var r struct {
		USSDMenu    string `json:"ussdMenu"`
		ShouldClose bool   `json:"shouldClose"`
	}
	err := json.Unmarshal(body, &r)
	return providers.Reply{Text: r.USSDMenu, End: r.ShouldClose}, err
}
