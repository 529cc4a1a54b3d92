// Package nalo speaks Nalo Solutions' USSD API (Ghana, docs/providers.md, "Nalo"): it
// turns a hop request into a providers.Hop and renders a providers.Reply as the
// JSON Nalo expects.
//
// Nalo is last-only. MSGTYPE means opposite things in the two directions: in
// a request, true marks the initial dial (USERDATA is then the dialled string,
// "*920*100*3#"); in a reply, true means "continue, wait for input" and false
// ends the session. Nalo sends no service code, no hop counter and no
// end-of-session signal: the gateway supplies the configured service code and
// derives replay keys with providers.Hop.KeyAt.
package nalo

import (
	"net/http"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Name identifies the provider in routes, hops and metrics.
const Name = "nalo"

// ContentType is the Content-Type of Body's replies.
const ContentType = wire.ReplyContentType

// MaxMessage is the longest MSG Nalo is said to deliver, in characters
// (nunyakata's notes on Nalo's Postman docs; unconfirmed with Nalo). Screens
// for Nalo must be budgeted to it, not to the default 160.
const MaxMessage = 120

// ParseHop reads one Nalo hop: a JSON object with USERID (the Nalo-issued
// account, echoed in the reply), MSISDN ("233244123456"), USERDATA, MSGTYPE
// (true on the initial dial), NETWORK ("MTN", "VODAFONE", "AIRTELTIGO") and
// SESSIONID. All but NETWORK are required.
//
// A request that cannot come from Nalo returns an error wrapping
// providers.ErrMalformed; a body cut short by http.MaxBytesReader one in which
// errors.As finds the *http.MaxBytesError.
func ParseHop(r *http.Request) (providers.Hop, error) {
	o, err := wire.ReadObject(r)
	if err != nil {
		return providers.Hop{}, err
	}
	var userID, msisdn, userData, network, sessionID string
	if err := o.Strings([]wire.Field{
		{Name: "USERID", Dst: &userID}, {Name: "MSISDN", Dst: &msisdn}, {Name: "USERDATA", Dst: &userData, Input: true},
		{Name: "NETWORK", Dst: &network}, {Name: "SESSIONID", Dst: &sessionID},
	}); err != nil {
		return providers.Hop{}, err
	}
	initial, ok, err := o.Bool("MSGTYPE")
	if err != nil {
		return providers.Hop{}, err
	}
	if !ok {
		return providers.Hop{}, wire.Malformed("missing MSGTYPE")
	}

	hop := providers.Hop{Provider: Name, Echo: providers.Echo{MSISDN: msisdn}}
	if hop.SessionID, err = wire.Identifier("SESSIONID", sessionID, providers.MaxSessionID, true); err != nil {
		return providers.Hop{}, err
	}
	if hop.Echo.Account, err = wire.Identifier("USERID", userID, wire.MaxAccount, true); err != nil {
		return providers.Hop{}, err
	}
	if hop.Phone, err = wire.Phone("MSISDN", msisdn); err != nil {
		return providers.Hop{}, err
	}
	if hop.Network, err = wire.Identifier("NETWORK", network, wire.MaxNetwork, false); err != nil {
		return providers.Hop{}, err
	}
	if initial {
		hop.MarkStart(userData)
	} else {
		hop.Text = userData
	}
	return hop, nil
}

// reply is Nalo's response object.
type reply struct {
	UserID  string `json:"USERID"`
	MSISDN  string `json:"MSISDN"`
	Msg     string `json:"MSG"`
	MsgType bool   `json:"MSGTYPE"` // true: continue; false: end (the opposite of the request's sense)
}

// Body renders rep for hop, echoing USERID and MSISDN exactly as Nalo sent
// them. The screen is trimmed as for every provider; keeping it within
// MaxMessage is the renderer's job. The gateway stores these bytes to replay
// a retried hop byte for byte.
func Body(hop providers.Hop, rep providers.Reply) []byte {
	return wire.Encode(reply{
		UserID:  hop.Echo.Account,
		MSISDN:  hop.Echo.MSISDN,
		Msg:     rep.Screen(),
		MsgType: !rep.Closes(hop),
	})
}
