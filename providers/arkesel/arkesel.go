// Package arkesel speaks Arkesel's USSD API (Ghana, docs/providers.md, "Arkesel"): it
// turns a hop request into a providers.Hop and renders a providers.Reply as the
// JSON Arkesel expects.
//
// Arkesel is last-only: when newSession is true, userData is the dialled
// string ("*928*1*3#"); after that it is the newest input. Arkesel sends no
// service code, no hop counter and no end-of-session signal: the gateway
// supplies the configured service code and derives replay keys with
// providers.Hop.KeyAt. Field names come from third-party integrations only;
// Arkesel's own API page was not available (docs/providers.md, "What is still unverified").
package arkesel

import (
	"net/http"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Name identifies the provider in routes, hops and metrics.
const Name = "arkesel"

// ContentType is the Content-Type of Body's replies.
const ContentType = wire.ReplyContentType

// ParseHop reads one Arkesel hop: a JSON object with sessionID, userID (the
// Arkesel account, echoed in the reply), newSession, msisdn ("233507387216"),
// userData and network. All but network are required.
//
// A request that cannot come from Arkesel returns an error wrapping
// providers.ErrMalformed; a body cut short by http.MaxBytesReader one in which
// errors.As finds the *http.MaxBytesError.
func ParseHop(r *http.Request) (providers.Hop, error) {
	o, err := wire.ReadObject(r)
	if err != nil {
		return providers.Hop{}, err
	}
	var sessionID, userID, msisdn, userData, network string
	if err := o.Strings([]wire.Field{
		{Name: "sessionID", Dst: &sessionID}, {Name: "userID", Dst: &userID}, {Name: "msisdn", Dst: &msisdn},
		{Name: "userData", Dst: &userData, Input: true}, {Name: "network", Dst: &network},
	}); err != nil {
		return providers.Hop{}, err
	}
	newSession, ok, err := o.Bool("newSession")
	if err != nil {
		return providers.Hop{}, err
	}
	if !ok {
		return providers.Hop{}, wire.Malformed("missing newSession")
	}

	hop := providers.Hop{Provider: Name, Echo: providers.Echo{MSISDN: msisdn}}
	if hop.SessionID, err = wire.Identifier("sessionID", sessionID, providers.MaxSessionID, true); err != nil {
		return providers.Hop{}, err
	}
	if hop.Echo.Account, err = wire.Identifier("userID", userID, wire.MaxAccount, true); err != nil {
		return providers.Hop{}, err
	}
	if hop.Phone, err = wire.Phone("msisdn", msisdn); err != nil {
		return providers.Hop{}, err
	}
	if hop.Network, err = wire.Identifier("network", network, wire.MaxNetwork, false); err != nil {
		return providers.Hop{}, err
	}
	if newSession {
		hop.MarkStart(userData)
	} else {
		hop.Text = userData
	}
	return hop, nil
}

// reply is Arkesel's response object.
type reply struct {
	SessionID       string `json:"sessionID"`
	UserID          string `json:"userID"`
	MSISDN          string `json:"msisdn"`
	Message         string `json:"message"`
	ContinueSession bool   `json:"continueSession"`
}

// Body renders rep for hop, echoing sessionID, userID and msisdn as Arkesel
// sent them. The screen is trimmed as for every provider. The gateway stores
// these bytes to replay a retried hop byte for byte.
func Body(hop providers.Hop, rep providers.Reply) []byte {
	return wire.Encode(reply{
		SessionID:       hop.SessionID,
		UserID:          hop.Echo.Account,
		MSISDN:          hop.Echo.MSISDN,
		Message:         rep.Screen(),
		ContinueSession: !rep.Closes(hop),
	})
}
