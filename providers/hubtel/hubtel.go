// Package hubtel speaks Hubtel's Programmable Services USSD API (docs/providers.md,
// "Hubtel"), the JSON API that replaced the legacy Hubtel/SMSGH USSD API in 2021:
// it turns a service-interaction request into a providers.Hop and renders a
// providers.Reply as the JSON response Hubtel expects.
//
// Hubtel is last-only: the Initiation request carries the full dialled string
// ("*714*5*3#", with ServiceCode "714*5"), every later request only the newest
// input. Each request carries Sequence, Hubtel's hop counter (1 on
// Initiation), which is the replay key. Release (the user ended the session)
// and Timeout (we answered too late; Hubtel ignores what we say next) only end
// the session.
package hubtel

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Name identifies the provider in routes, hops and metrics.
const Name = "hubtel"

// ContentType is the Content-Type of Body's replies.
const ContentType = wire.ReplyContentType

// Request types (the Type member). Hubtel's docs write them in lower case, its
// SDK capitalised; both are accepted.
const (
	TypeInitiation = "Initiation"
	TypeResponse   = "Response"
	TypeRelease    = "Release"
	TypeTimeout    = "Timeout"
)

// ParseHop reads one Programmable Services request: a JSON object with
// SessionId, Mobile ("233246912184", no '+'), ServiceCode ("714*5"), Type,
// Message (the dialled string on Initiation, the newest input after),
// Operator, ClientState, Sequence (a number, or a string of digits as in
// Hubtel's readme sample) and Platform.
//
// Only the USSD platform is served: Query, Favorite and AddToCart requests and
// other platforms (Hubtel-App, Web, POS) are refused. Release and Timeout
// requests need only SessionId and Type.
//
// A request that cannot come from Hubtel returns an error wrapping
// providers.ErrMalformed; a body cut short by http.MaxBytesReader one in which
// errors.As finds the *http.MaxBytesError.
func ParseHop(r *http.Request) (providers.Hop, error) {
	o, err := wire.ReadObject(r)
	if err != nil {
		return providers.Hop{}, err
	}
	var f struct{ sessionID, mobile, serviceCode, typ, message, operator, platform string }
	if err := o.Strings([]wire.Field{
		{Name: "SessionId", Dst: &f.sessionID}, {Name: "Mobile", Dst: &f.mobile},
		{Name: "ServiceCode", Dst: &f.serviceCode}, {Name: "Type", Dst: &f.typ},
		{Name: "Message", Dst: &f.message, Input: true}, {Name: "Operator", Dst: &f.operator},
		{Name: "Platform", Dst: &f.platform},
	}); err != nil {
		return providers.Hop{}, err
	}
	// ClientState is ours, echoed back; it is read only to refuse a wrong type.
	if _, err := o.String("ClientState"); err != nil {
		return providers.Hop{}, err
	}
	seq, hasSeq, err := o.Count("Sequence")
	if err != nil {
		return providers.Hop{}, err
	}

	hop := providers.Hop{Provider: Name}
	if hop.SessionID, err = wire.Identifier("SessionId", f.sessionID, providers.MaxSessionID, true); err != nil {
		return providers.Hop{}, err
	}
	if p := strings.TrimSpace(f.platform); p != "" && !strings.EqualFold(p, "USSD") {
		return providers.Hop{}, wire.Malformed("platform %q is not USSD", p)
	}
	switch typ := strings.TrimSpace(f.typ); {
	case strings.EqualFold(typ, TypeInitiation):
		hop.MarkStart(f.message)
	case strings.EqualFold(typ, TypeResponse):
		hop.Text = f.message
	case strings.EqualFold(typ, TypeRelease), strings.EqualFold(typ, TypeTimeout):
		hop.End = true
	case typ == "":
		return providers.Hop{}, wire.Malformed("missing Type")
	default:
		return providers.Hop{}, wire.Malformed("unsupported Type %q", typ)
	}
	if hop.Phone, err = wire.Phone("Mobile", f.mobile); err != nil && !hop.End {
		return providers.Hop{}, err
	}
	if hop.ServiceCode, err = wire.Identifier("ServiceCode", f.serviceCode, wire.MaxServiceCode, false); err != nil {
		return providers.Hop{}, err
	}
	if hop.Network, err = wire.Identifier("Operator", f.operator, wire.MaxNetwork, false); err != nil {
		return providers.Hop{}, err
	}
	// Hubtel's own number, when sent, replaces MarkStart's key on a start too:
	// it keys every hop, so none can be mistaken for another.
	if hasSeq && seq > 0 {
		hop.Seq = seq
		hop.ReplayKey = "seq:" + strconv.Itoa(seq)
	}
	return hop, nil
}

// reply is Hubtel's response object. For USSD only Type and Message matter;
// Label, DataType, FieldType and the rest drive Hubtel's app and web channels,
// which the gateway does not serve. ClientState is always empty: the session
// lives in Redis, not in Hubtel. SessionId is echoed because Hubtel's docs are
// unclear on whether they want it, and sending it is harmless (docs/providers.md,
// "Hubtel: unverified").
type reply struct {
	SessionID   string `json:"SessionId"`
	Type        string `json:"Type"`
	Message     string `json:"Message"`
	ClientState string `json:"ClientState"`
}

// Body renders rep for hop: Type "Response" keeps the session open, "Release"
// ends it. The screen is trimmed as for every provider. An End hop (Release,
// Timeout) is acknowledged with a Release; Hubtel ignores it after a Timeout.
// The gateway stores these bytes to replay a retried hop byte for byte.
func Body(hop providers.Hop, rep providers.Reply) []byte {
	typ := TypeResponse
	if rep.Closes(hop) {
		typ = TypeRelease
	}
	return wire.Encode(reply{SessionID: hop.SessionID, Type: typ, Message: rep.Screen()})
}
