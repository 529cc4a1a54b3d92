package africastalking

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

const formType = "application/x-www-form-urlencoded"

// formField asks readForm for the value of one form key. A value that is not
// valid UTF-8 makes the request malformed, except for the user's input
// (input set), whose invalid bytes are replaced (providers.ValidUTF8). off, n
// and seen are readForm's scratch space.
type formField struct {
	key   string
	dst   *string
	input bool
	off   int
	n     int
	seen  bool
}

// readForm decodes the request's url-encoded body into fields.
//
// It replaces r.ParseForm for two reasons: a genuine AT request never repeats
// a key, so a repeated one is refused rather than silently resolved (which
// copy wins depends on who reads url.Values); and the decoding happens in
// place, with all wanted values sharing one string, so a hop costs a few
// allocations instead of a map of slices. Pairs are split and unescaped
// exactly as url.ParseQuery does, including its refusal of ';'.
//
// A body cut short by http.MaxBytesReader returns an error wrapping
// *http.MaxBytesError; every other refusal wraps providers.ErrMalformed.
func readForm(r *http.Request, fields []formField) error {
	if err := wire.CheckContentType(r, formType); err != nil {
		return err
	}
	if r.Body == nil {
		return decodeForm(nil, fields)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read form body: %w", err)
	}
	return decodeForm(body, fields)
}

// decodeForm unescapes buf in place, compacting the wanted values into its
// front (unescaping never lengthens, so writes stay behind the reads), then
// copies them into one string that all fields slice.
func decodeForm(buf []byte, fields []formField) error {
	w := 0
	for rest := buf; len(rest) > 0; {
		pair := rest
		rest = nil
		if i := bytes.IndexByte(pair, '&'); i >= 0 {
			pair, rest = pair[:i], pair[i+1:]
		}
		if len(pair) == 0 {
			continue
		}
		if bytes.IndexByte(pair, ';') >= 0 {
			return fmt.Errorf("%w: ';' in form body", providers.ErrMalformed)
		}
		key, val := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			key, val = pair[:i], pair[i+1:]
		}
		key, err := unescape(key)
		if err != nil {
			return err
		}
		if val, err = unescape(val); err != nil {
			return err
		}
		f := lookup(fields, key)
		if f == nil {
			continue
		}
		// Errors name key, not f.key: formatting f.key would move fields, and
		// the callers' variables behind dst, to the heap.
		if f.seen {
			return fmt.Errorf("%w: repeated %s", providers.ErrMalformed, key)
		}
		if !f.input && !utf8.Valid(val) {
			return fmt.Errorf("%w: %s is not valid UTF-8", providers.ErrMalformed, key)
		}
		f.seen, f.off, f.n = true, w, copy(buf[w:], val)
		w += f.n
	}
	values := string(buf[:w])
	for i := range fields {
		if f := &fields[i]; f.seen {
			*f.dst = values[f.off : f.off+f.n]
			if f.input {
				*f.dst = providers.ValidUTF8(*f.dst)
			}
		}
	}
	return nil
}

func lookup(fields []formField, key []byte) *formField {
	for i := range fields {
		if fields[i].key == string(key) {
			return &fields[i]
		}
	}
	return nil
}

var errEscape = fmt.Errorf("%w: invalid %%-escape in form body", providers.ErrMalformed)

// unescape decodes one form-encoded key or value in place ('+' is a space,
// %XX a byte, as url.QueryUnescape) and returns the decoded prefix of b.
func unescape(b []byte) ([]byte, error) {
	w := 0
	for r := 0; r < len(b); r, w = r+1, w+1 {
		switch b[r] {
		case '+':
			b[w] = ' '
		case '%':
			if r+2 >= len(b) {
				return nil, errEscape
			}
			hi, ok1 := unhex(b[r+1])
			lo, ok2 := unhex(b[r+2])
			if !ok1 || !ok2 {
				return nil, errEscape
			}
			b[w] = hi<<4 | lo
			r += 2
		default:
			b[w] = b[r]
		}
	}
	return b[:w], nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
