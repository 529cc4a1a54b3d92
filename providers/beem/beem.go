// Package beem speaks Beem Africa's USSD callback API (Tanzania; docs/providers.md,
// "Beem"): it turns a callback into a providers.Hop and renders a
// providers.Reply as the JSON Beem expects, echoing the session and request
// ids.
//
// Beem is last-only: command "initiate" starts a session (its input is
// empty), "continue" carries the newest input in payload.response, and
// "terminate" only ends the session. The format comes from the npm
// ussd-builder library; Beem's own docs were not available (docs/providers.md, "What is still unverified").
// Whether payload.request_id is unique per hop is unverified, so it is echoed
// but not used as the replay key: hops after the start get none (see
// providers.Hop.KeyAt).
package beem

import (
	"net/http"
	"strings"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Name identifies the provider in routes, hops and metrics.
const Name = "beem"

// ContentType is the Content-Type of Body's replies.
const ContentType = wire.ReplyContentType

// Commands, in requests and replies.
const (
	CommandInitiate  = "initiate"
	CommandContinue  = "continue"
	CommandTerminate = "terminate"
)

// ParseHop reads one Beem callback: a JSON object with session_id, msisdn
// ("255712345678"), operator, command and payload {request_id, response}.
// session_id, command and payload.request_id are required, and msisdn except
// on terminate. The command is matched in any case.
//
// A request that cannot come from Beem returns an error wrapping
// providers.ErrMalformed; a body cut short by http.MaxBytesReader one in which
// errors.As finds the *http.MaxBytesError.
func ParseHop(r *http.Request) (providers.Hop, error) {
	o, err := wire.ReadObject(r)
	if err != nil {
		return providers.Hop{}, err
	}
	var sessionID, msisdn, operator, command, requestID, response string
	if err := o.Strings([]wire.Field{
		{Name: "session_id", Dst: &sessionID}, {Name: "msisdn", Dst: &msisdn},
		{Name: "operator", Dst: &operator}, {Name: "command", Dst: &command},
	}); err != nil {
		return providers.Hop{}, err
	}
	payload, ok, err := o.Object("payload")
	if err != nil {
		return providers.Hop{}, err
	}
	if ok {
		if requestID, err = payload.String("request_id"); err != nil {
			return providers.Hop{}, err
		}
		if response, err = payload.Text("response"); err != nil {
			return providers.Hop{}, err
		}
	}

	hop := providers.Hop{Provider: Name, Echo: providers.Echo{MSISDN: msisdn}}
	if hop.SessionID, err = wire.Identifier("session_id", sessionID, providers.MaxSessionID, true); err != nil {
		return providers.Hop{}, err
	}
	switch c := strings.TrimSpace(command); {
	case strings.EqualFold(c, CommandInitiate):
		hop.MarkStart(response)
	case strings.EqualFold(c, CommandContinue):
		hop.Text = response
	case strings.EqualFold(c, CommandTerminate):
		hop.End = true
	case c == "":
		return providers.Hop{}, wire.Malformed("missing command")
	default:
		return providers.Hop{}, wire.Malformed("unsupported command %q", c)
	}
	if hop.Echo.RequestID, err = wire.Identifier("payload.request_id", requestID, wire.MaxRequestID, !hop.End); err != nil {
		return providers.Hop{}, err
	}
	if hop.Phone, err = wire.Phone("msisdn", msisdn); err != nil && !hop.End {
		return providers.Hop{}, err
	}
	if hop.Network, err = wire.Identifier("operator", operator, wire.MaxNetwork, false); err != nil {
		return providers.Hop{}, err
	}
	return hop, nil
}

// reply is Beem's response object.
type reply struct {
	SessionID string       `json:"session_id"`
	MSISDN    string       `json:"msisdn"`
	Operator  string       `json:"operator"`
	Command   string       `json:"command"`
	Payload   replyPayload `json:"payload"`
}

type replyPayload struct {
	RequestID string `json:"request_id"`
	Request   string `json:"request"` // the screen: Beem's "request" to the user
}

// Body renders rep for hop, echoing session_id, msisdn, operator and
// payload.request_id: command "continue" waits for input, "terminate" ends the
// session (and acknowledges a terminate callback). The screen is trimmed as
// for every provider. The gateway stores these bytes to replay a retried hop
// byte for byte.
func Body(hop providers.Hop, rep providers.Reply) []byte {
	command := CommandContinue
	if rep.Closes(hop) {
		command = CommandTerminate
	}
	return wire.Encode(reply{
		SessionID: hop.SessionID,
		MSISDN:    hop.Echo.MSISDN,
		Operator:  hop.Network,
		Command:   command,
		Payload:   replyPayload{RequestID: hop.Echo.RequestID, Request: rep.Screen()},
	})
}
