// Package africastalking speaks Africa's Talking USSD (docs/providers.md, "Africa's Talking USSD hop"): it
// turns a hop callback into a providers.Hop, renders a providers.Reply as the
// "CON "/"END " text AT expects, and parses the end-of-session notification.
package africastalking

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Name identifies the provider in routes, hops and metrics.
const Name = "africastalking"

// textType is the Content-Type of every answer to AT.
const textType = "text/plain; charset=utf-8"

// Upper bounds on identifiers. AT documents none; these are generous (a
// sessionId is ~38 bytes, a service code ~12, a network code 5) and keep
// attacker-sized strings out of Redis keys and log lines.
// Session ids are bounded by providers.MaxSessionID.
const (
	maxServiceCode = 64
	maxNetworkCode = 16
)

// ParseHop reads one AT USSD hop: a form POST with sessionId, serviceCode,
// phoneNumber, text (the '*'-joined input history, empty on the first hop)
// and, on current AT platforms, networkCode.
//
// A request that cannot come from AT returns an error wrapping
// providers.ErrMalformed. A body cut short by http.MaxBytesReader returns an
// error in which errors.As finds the *http.MaxBytesError. Text is the user's:
// its invalid UTF-8 is replaced (providers.ValidUTF8) rather than refused, and
// it is not length-limited here, since an oversized input deserves a screen
// too (providers.Hop.Bound); the body limit is the caller's.
//
// ParseHop reads r.Body itself, so nothing may call r.ParseForm before it.
func ParseHop(r *http.Request) (providers.Hop, error) {
	var sessionID, serviceCode, phone, network, text string
	err := readForm(r, []formField{
		{key: "sessionId", dst: &sessionID},
		{key: "serviceCode", dst: &serviceCode},
		{key: "phoneNumber", dst: &phone},
		{key: "networkCode", dst: &network},
		{key: "text", dst: &text, input: true},
	})
	if err != nil {
		return providers.Hop{}, err
	}
	if sessionID, err = wire.Identifier("sessionId", sessionID, providers.MaxSessionID, true); err != nil {
		return providers.Hop{}, err
	}
	if serviceCode, err = wire.Identifier("serviceCode", serviceCode, maxServiceCode, true); err != nil {
		return providers.Hop{}, err
	}
	if phone, err = phoneNumber(phone); err != nil {
		return providers.Hop{}, err
	}
	if network, err = wire.Identifier("networkCode", network, maxNetworkCode, false); err != nil {
		return providers.Hop{}, err
	}
	return providers.Hop{
		Provider:    Name,
		SessionID:   sessionID,
		Phone:       phone,
		ServiceCode: serviceCode,
		Network:     network,
		Text:        text,
		Accumulated: true,
		ReplayKey:   "t:" + text,
	}, nil
}

// phoneNumber checks that v is E.164-shaped: an optional '+' and 6 to 15
// digits. AT percent-encodes the '+' ("%2B2557..."), but a raw '+' form-decodes
// to a space (" 2557...", docs/providers.md, "Africa's Talking USSD hop"); that one leading space is turned
// back into '+'.
func phoneNumber(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%w: missing phoneNumber", providers.ErrMalformed)
	}
	v = restorePlus(v)
	digits := strings.TrimPrefix(v, "+")
	if len(digits) < 6 || len(digits) > 15 || strings.ContainsFunc(digits, wire.NotDigit) {
		return "", fmt.Errorf("%w: malformed phoneNumber", providers.ErrMalformed)
	}
	return v, nil
}

// restorePlus undoes the form decoding of an unencoded leading '+' (see
// phoneNumber).
func restorePlus(v string) string {
	if len(v) > 1 && v[0] == ' ' && '0' <= v[1] && v[1] <= '9' {
		return "+" + v[1:]
	}
	return v
}

// Body renders rep as AT's wire text: "CON " (wait for input) or "END " (close
// the session), then the screen, trimmed. AT reportedly refuses whitespace
// before the prefix (docs/providers.md, "Africa's Talking USSD hop"), so the prefix is followed by exactly
// one space; and stray whitespace or a trailing newline would cost characters
// of a 160-character screen. The gateway stores these bytes to replay a
// retried hop byte for byte.
func Body(rep providers.Reply) []byte {
	prefix := "CON "
	if rep.End {
		prefix = "END "
	}
	text := rep.Screen()
	b := make([]byte, 0, len(prefix)+len(text))
	return append(append(b, prefix...), text...)
}
