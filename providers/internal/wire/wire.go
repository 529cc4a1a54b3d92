// Package wire holds the request checks every JSON aggregator shares: a strict
// content type, a body that is exactly one JSON object with no repeated
// member, typed member lookups that refuse a value of the wrong type or of
// invalid UTF-8 (except in the user's input, whose invalid bytes are
// replaced), and the identifier and phone-number rules of the normalised hop.
//
// Member names match case-insensitively (as encoding/json matches struct
// fields, and as Hubtel's .NET SDK reads them), so "sessionId" and "SessionId"
// are the same member, and an object carrying both is refused as a repeat
// rather than resolved by whichever the decoder happens to keep.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
)

// JSONType is the media type JSON aggregators post.
const JSONType = "application/json"

// ReplyContentType is the Content-Type of every JSON reply.
const ReplyContentType = "application/json; charset=utf-8"

// Malformed returns an error wrapping providers.ErrMalformed.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{providers.ErrMalformed}, args...)...)
}

// CheckContentType refuses a request whose media type is not want. Parameters
// (charset) and the case of the type are ignored.
func CheckContentType(r *http.Request, want string) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), want) {
		return Malformed("content type %q, want %s", ct, want)
	}
	return nil
}

// ReadBody reads the whole body. A body cut short by http.MaxBytesReader
// returns an error in which errors.As finds the *http.MaxBytesError.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// ReadObject checks the content type and decodes the body as one JSON object.
func ReadObject(r *http.Request) (Object, error) {
	if err := CheckContentType(r, JSONType); err != nil {
		return Object{}, err
	}
	body, err := ReadBody(r)
	if err != nil {
		return Object{}, err
	}
	return DecodeObject(body)
}

// Object is a JSON object whose members are looked up by case-insensitive
// name. Members nobody asks for are ignored: aggregators add fields.
type Object struct {
	members map[string]json.RawMessage // by lower-cased name
}

// DecodeObject decodes data, which must hold exactly one JSON object without
// repeated member names, all of them valid UTF-8. String values are checked
// when read: invalid UTF-8 in a phone's input must not cost the request
// (Text), in anything else it does (String).
func DecodeObject(data []byte) (Object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Object{}, Malformed("empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil {
		return Object{}, Malformed("invalid JSON: %v", err)
	} else if tok != json.Delim('{') {
		return Object{}, Malformed("body is not a JSON object")
	}
	o := Object{members: make(map[string]json.RawMessage)}
	for dec.More() {
		from := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return Object{}, Malformed("invalid JSON: %v", err)
		}
		// The decoder turns invalid bytes into U+FFFD silently; no aggregator
		// names a member with any.
		if !utf8.Valid(data[from:dec.InputOffset()]) {
			return Object{}, Malformed("member name is not valid UTF-8")
		}
		name, _ := tok.(string) // inside an object the decoder only yields string keys
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Object{}, Malformed("invalid JSON: %v", err)
		}
		key := strings.ToLower(name)
		if _, dup := o.members[key]; dup {
			return Object{}, Malformed("repeated member %q", name)
		}
		o.members[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return Object{}, Malformed("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Object{}, Malformed("data after the JSON object")
	}
	return o, nil
}

// lookup returns the member's value and whether it is present and not null:
// a null stands for an absent value (Infobip sends "language": null).
func (o Object) lookup(name string) (json.RawMessage, bool) {
	raw, ok := o.members[strings.ToLower(name)]
	if !ok || string(raw) == "null" {
		return nil, false
	}
	return raw, true
}

// Has reports whether the member is present and not null.
func (o Object) Has(name string) bool {
	_, ok := o.lookup(name)
	return ok
}

// kind names a JSON value's type for error messages.
func kind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// String returns a string member; "" when absent or null. A value that is
// not valid UTF-8 is refused: encoding/json would silently turn its invalid
// bytes into U+FFFD, and an identifier so changed could name another session.
func (o Object) String(name string) (string, error) {
	return o.str(name, false)
}

// Text returns a string member holding the user's input, as String does,
// except that each run of invalid UTF-8 bytes becomes U+FFFD
// (providers.ValidUTF8) instead of making the request malformed: the caller
// gets the menus' answer to a wrong input, not the aggregator's error.
func (o Object) Text(name string) (string, error) {
	return o.str(name, true)
}

func (o Object) str(name string, input bool) (string, error) {
	raw, ok := o.lookup(name)
	if !ok {
		return "", nil
	}
	if raw[0] != '"' {
		return "", Malformed("%s is %s, want a string", name, kind(raw))
	}
	if !utf8.Valid(raw) {
		if !input {
			return "", Malformed("%s is not valid UTF-8", name)
		}
		// Replaced before decoding, as a form's input is after: escapes
		// cannot make invalid UTF-8, so both ways agree.
		raw = bytes.ToValidUTF8(raw, []byte(providers.Unreadable))
	}
	// DecodeObject has checked the JSON: without escapes, the string is the
	// bytes between the quotes, and every hop reads several.
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", Malformed("%s: %v", name, err)
	}
	return s, nil
}

// Field asks Strings for one string member, stored through Dst. Input marks
// the user's input, read with Text rather than String.
type Field struct {
	Name  string
	Dst   *string
	Input bool
}

// Strings reads each field's member as String (or Text) does, stopping at the
// first error. Members are read in the order given, so the error a body with
// several faults returns does not depend on map order.
func (o Object) Strings(fs []Field) error {
	for _, f := range fs {
		v, err := o.str(f.Name, f.Input)
		if err != nil {
			return err
		}
		*f.Dst = v
	}
	return nil
}

// Bool returns a boolean member and whether it is present (not absent or null).
func (o Object) Bool(name string) (v, present bool, err error) {
	raw, ok := o.lookup(name)
	switch {
	case !ok:
		return false, false, nil
	case string(raw) == "true":
		return true, true, nil
	case string(raw) == "false":
		return false, true, nil
	}
	return false, false, Malformed("%s is %s, want a boolean", name, kind(raw))
}

// Count returns a non-negative integer member sent either as a JSON number or
// as a string of digits (Hubtel's SDK models Sequence as int, its sample sends
// "1"), and whether it is present. An empty string counts as absent.
func (o Object) Count(name string) (n int, present bool, err error) {
	raw, ok := o.lookup(name)
	if !ok {
		return 0, false, nil
	}
	var digits string
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &digits); err != nil {
			return 0, false, Malformed("%s: %v", name, err)
		}
		if digits = strings.TrimSpace(digits); digits == "" {
			return 0, false, nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		digits = string(raw)
	default:
		return 0, false, Malformed("%s is %s, want a number", name, kind(raw))
	}
	// ParseUint refuses signs, fractions and exponents; 31 bits fit any int.
	v, err := strconv.ParseUint(digits, 10, 31)
	if err != nil {
		return 0, false, Malformed("%s %q is not a count", name, digits)
	}
	return int(v), true, nil
}

// Object returns an object member and whether it is present. Its own members
// follow the same rules as the body's.
func (o Object) Object(name string) (Object, bool, error) {
	raw, ok := o.lookup(name)
	if !ok {
		return Object{}, false, nil
	}
	if raw[0] != '{' {
		return Object{}, false, Malformed("%s is %s, want an object", name, kind(raw))
	}
	sub, err := DecodeObject(raw)
	if err != nil {
		return Object{}, false, fmt.Errorf("%s: %w", name, err)
	}
	return sub, true, nil
}

// Upper bounds on identifiers. No aggregator documents any; these are
// generous and keep attacker-sized strings out of Redis keys and log lines.
// Session ids are bounded by providers.MaxSessionID.
const (
	MaxServiceCode = 64
	MaxNetwork     = 32
	MaxAccount     = 64
	MaxRequestID   = 128
	// MaxPhone bounds a phone number field as sent, spaces included: some
	// replies echo it exactly (providers.Echo.MSISDN), and they are stored.
	MaxPhone = 32
)

// Identifier trims v and checks its length, that it is valid UTF-8 (it may
// come from a URL path rather than a checked body) and that it holds no
// control characters: identifiers end up in Redis keys and log lines.
func Identifier(name, v string, limit int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		return "", Malformed("missing %s", name)
	case len(v) > limit:
		return "", Malformed("%s longer than %d bytes", name, limit)
	case !utf8.ValidString(v):
		return "", Malformed("%s is not valid UTF-8", name)
	case strings.ContainsFunc(v, unicode.IsControl):
		return "", Malformed("control character in %s", name)
	}
	return v, nil
}

// ErrNoPhone is wrapped by Phone for an empty number, so that parsers of
// end-of-session signals, which may carry none, can tell it apart.
var ErrNoPhone = errors.New("missing phone number")

// Phone checks that v is a phone number of 6 to 15 digits, with or without a
// leading '+', and normalises it: international digits without '+'
// ("233246912184", as Hubtel, Nalo, Arkesel, Infobip and Beem send them) get
// the '+'; a national number ("0244123456") is kept as sent, for the menus to
// read with the deployment's phone region.
func Phone(name, v string) (string, error) {
	if len(v) > MaxPhone {
		return "", Malformed("%s longer than %d bytes", name, MaxPhone)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("%w: %w (%s)", providers.ErrMalformed, ErrNoPhone, name)
	}
	digits, _ := strings.CutPrefix(v, "+")
	if len(digits) < 6 || len(digits) > 15 || strings.ContainsFunc(digits, NotDigit) {
		return "", Malformed("malformed %s", name)
	}
	if digits[0] == '0' && !strings.HasPrefix(v, "+") {
		return digits, nil
	}
	return "+" + digits, nil
}

// NotDigit reports whether r is anything but an ASCII digit: unicode.IsDigit
// would let other scripts' digits into a phone number.
func NotDigit(r rune) bool { return r < '0' || r > '9' }

// Encode renders v as compact JSON without a trailing newline. HTML
// characters are not escaped: a menu may say "<5 claims" and the screen budget
// has no room for "\u003c". v is always one of the reply structs of the
// provider packages, which cannot fail to encode.
func Encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("wire: encode reply: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Write answers 200 with body and the given content type.
func Write(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	// A failed write means the aggregator hung up; there is no one left to tell.
	_, _ = w.Write(body)
}
