package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/arkesel"
	"github.com/openimis/imis-gateway/providers/beem"
	"github.com/openimis/imis-gateway/providers/hubtel"
	"github.com/openimis/imis-gateway/providers/infobip"
	"github.com/openimis/imis-gateway/providers/nalo"
)

// ussdWire is how one aggregator speaks USSD: parse a request into a hop,
// render a reply into the exact bytes to send (stored for replay).
type ussdWire struct {
	parse       func(*http.Request) (providers.Hop, error)
	render      func(providers.Hop, providers.Reply) []byte
	contentType string
}

// USSDProviders lists the aggregators whose USSD callbacks the gateway
// serves, by the name used in routes, configuration and metrics.
var USSDProviders = []string{africastalking.Name, hubtel.Name, nalo.Name, arkesel.Name, infobip.Name, beem.Name}

var ussdWires = map[string]ussdWire{
	africastalking.Name: {
		parse:       africastalking.ParseHop,
		render:      func(_ providers.Hop, rep providers.Reply) []byte { return africastalking.Body(rep) },
		contentType: "text/plain; charset=utf-8",
	},
	hubtel.Name:  {parse: hubtel.ParseHop, render: hubtel.Body, contentType: hubtel.ContentType},
	nalo.Name:    {parse: nalo.ParseHop, render: nalo.Body, contentType: nalo.ContentType},
	arkesel.Name: {parse: arkesel.ParseHop, render: arkesel.Body, contentType: arkesel.ContentType},
	beem.Name:    {parse: beem.ParseHop, render: beem.Body, contentType: beem.ContentType},
	// Infobip calls REST resources with the session and the action in the
	// path: .../session/{id}/start|response|end.
	infobip.Name: {
		parse: func(r *http.Request) (providers.Hop, error) {
			return infobip.ParseHop(r, chi.URLParam(r, "session"), chi.URLParam(r, "action"))
		},
		render:      infobip.Body,
		contentType: infobip.ContentType,
	},
}
