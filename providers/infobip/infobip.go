// Package infobip speaks Infobip's "USSD Gateway to Third-party Application"
// REST API (docs/providers.md, "Infobip"): Infobip calls resources under the session's
// path, /session/{sessionId}/start, /response and /end, and GETs /status.
// This package turns the three session calls into a providers.Hop and renders
// the JSON Infobip expects back.
//
// Infobip is last-only: the start call's text is the dialled string
// ("*123*3#"), each response call's text the newest input. /end only closes
// the session. The API numbers no hops, so a start gets the replay key
// providers.ReplayKeyStart and later hops none (see providers.Hop.KeyAt).
//
// The format comes from vumi's Infobip transport, which quotes Infobip's spec;
// whether Infobip's current USSD product still speaks it is unverified
// (docs/providers.md, "What is still unverified").
package infobip

import (
	"net/http"
	"strings"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Name identifies the provider in routes, hops and metrics.
const Name = "infobip"

// ContentType is the Content-Type of every reply.
const ContentType = wire.ReplyContentType

// Actions: the last path segment of a session call.
const (
	ActionStart    = "start"
	ActionResponse = "response"
	ActionEnd      = "end"
	ActionStatus   = "status" // GET; answered with StatusBody, not a hop
)

// ParseHop reads one session call, given the path's session id and action
// (one of ActionStart, ActionResponse, ActionEnd): Provider's routes mount
// the resources under /ussd/infobip/{token}/session/{session}/{action}.
//
// Start and response are POSTs of a JSON object with msisdn ("385955363443")
// and text, both required, plus optional shortCode (the code dialled, "*123#";
// vumi found it "not as mandatory as the documentation claims"), imsi,
// language, optional and ussdGwId. End is a PUT (POST is accepted too) of
// {"exitCode": 0, "reason": "ok"}; an empty end body is accepted, since an end
// only closes the session.
//
// A request that cannot come from Infobip returns an error wrapping
// providers.ErrMalformed; a body cut short by http.MaxBytesReader one in which
// errors.As finds the *http.MaxBytesError.
func ParseHop(r *http.Request, sessionID, action string) (providers.Hop, error) {
	hop := providers.Hop{Provider: Name}
	var err error
	if hop.SessionID, err = wire.Identifier("session id", sessionID, providers.MaxSessionID, true); err != nil {
		return providers.Hop{}, err
	}
	switch action {
	case ActionStart, ActionResponse:
		if r.Method != http.MethodPost {
			return providers.Hop{}, wire.Malformed("%s %s, want POST", r.Method, action)
		}
	case ActionEnd:
		if r.Method != http.MethodPut && r.Method != http.MethodPost {
			return providers.Hop{}, wire.Malformed("%s %s, want PUT", r.Method, action)
		}
		return hop, parseEnd(r, &hop)
	default:
		return providers.Hop{}, wire.Malformed("unknown session action %q", action)
	}

	o, err := wire.ReadObject(r)
	if err != nil {
		return providers.Hop{}, err
	}
	var msisdn, text, shortCode string
	if err := o.Strings([]wire.Field{
		{Name: "msisdn", Dst: &msisdn}, {Name: "text", Dst: &text, Input: true}, {Name: "shortCode", Dst: &shortCode},
		// Read only to refuse a wrong type.
		{Name: "imsi", Dst: new(string)}, {Name: "language", Dst: new(string)},
		{Name: "optional", Dst: new(string)}, {Name: "ussdGwId", Dst: new(string)},
	}); err != nil {
		return providers.Hop{}, err
	}
	if !o.Has("text") {
		return providers.Hop{}, wire.Malformed("missing text")
	}
	if hop.Phone, err = wire.Phone("msisdn", msisdn); err != nil {
		return providers.Hop{}, err
	}
	if hop.ServiceCode, err = wire.Identifier("shortCode", shortCode, wire.MaxServiceCode, false); err != nil {
		return providers.Hop{}, err
	}
	if action == ActionStart {
		hop.MarkStart(text)
	} else {
		hop.Text = text
	}
	return hop, nil
}

// parseEnd checks an end call's body, if any: a JSON object with an integer
// exitCode and a string reason. Neither changes what the gateway does.
func parseEnd(r *http.Request, hop *providers.Hop) error {
	hop.End = true
	body, err := wire.ReadBody(r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := wire.CheckContentType(r, wire.JSONType); err != nil {
		return err
	}
	o, err := wire.DecodeObject(body)
	if err != nil {
		return err
	}
	if _, _, err := o.Count("exitCode"); err != nil {
		return err
	}
	_, err = o.String("reason")
	return err
}

// reply is the answer to start and response calls. thirdPartyId is optional
// and not sent.
type reply struct {
	USSDMenu         string `json:"ussdMenu"`
	ShouldClose      bool   `json:"shouldClose"`
	ResponseExitCode int    `json:"responseExitCode"`
	ResponseMessage  string `json:"responseMessage"`
}

// ack is the answer to an end call.
type ack struct {
	ResponseExitCode int    `json:"responseExitCode"`
	ResponseMessage  string `json:"responseMessage"`
}

// Body renders rep for hop: the menu with shouldClose, or for an end call the
// bare acknowledgement {"responseExitCode":200,"responseMessage":""}. The
// screen is trimmed as for every provider.
//
// Infobip's spec says the first message of a session "will always be sent as
// a menu (shouldClose false)"; Body still says what the gateway means, and
// Infobip applies its own rule.
func Body(hop providers.Hop, rep providers.Reply) []byte {
	if hop.End {
		return wire.Encode(ack{ResponseExitCode: http.StatusOK})
	}
	return wire.Encode(reply{
		USSDMenu:         rep.Screen(),
		ShouldClose:      rep.End,
		ResponseExitCode: http.StatusOK,
	})
}

// StatusBody answers GET /session/{id}/status: whether the gateway still holds
// the session.
func StatusBody(active bool) []byte {
	return wire.Encode(struct {
		SessionActive    bool   `json:"sessionActive"`
		ResponseExitCode int    `json:"responseExitCode"`
		ResponseMessage  string `json:"responseMessage"`
	}{active, http.StatusOK, ""})
}
