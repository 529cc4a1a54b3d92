package wire

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/openimis/imis-gateway/providers"
)

// JSONRequest is a Client's request with body as its JSON body.
func JSONRequest(method, url string, body any) (providers.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return providers.Request{}, err
	}
	return providers.Request{Method: method, URL: url, ContentType: JSONType, Body: b}, nil
}

// Typed is the user's input in a JSON body, written byte for byte as an
// aggregator relays what the handset sent, also when it is not valid UTF-8
// (a terminal in another encoding): encoding/json would send U+FFFD instead,
// and the gateway would never see the bytes it must cope with.
type Typed string

func (s Typed) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, len(s)+2), '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), nil
}

// Digits is an E.164 number without its '+', as JSON aggregators send it.
func Digits(msisdn string) string { return strings.TrimPrefix(msisdn, "+") }
