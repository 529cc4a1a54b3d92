// Package conversation reads and writes conversation files: a phone, an
// aggregator, a service code, and each USSD input with the screen expected
// back (docs/conversations.md, "The format"). Implementers record them
// with the terminal simulator or write them by hand, and
// `imis-gateway check-conversations` plays them against a running gateway
// (Play) to show that their texts, languages and codes still give the
// screens they expect.
package conversation

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/openimis/imis-gateway/providers/registry"
)

// Conversation is one file: who dials what, through which aggregator, and
// the hops in order.
type Conversation struct {
	Name     string // the file's name, for messages
	Phone    string // as the aggregator sends it, e.g. +255712111222
	Provider string // a USSD provider of the registry, e.g. africastalking
	Code     string // the service code dialled, e.g. *384*1234#
	Hops     []Hop
}

// Hop is one request and the screen expected back.
type Hop struct {
	Line   int    // where the hop starts in the file, for messages
	Dial   bool   // starts a new session; Input is then the pre-dialled route, if any
	Input  string // what is typed; may hold {receipt}
	Screen []string
	End    bool // the gateway is expected to end the session
}

// Header keys, in the order files list them.
const (
	keyPhone    = "phone"
	keyProvider = "provider"
	keyCode     = "code"
)

const (
	separator  = "---"
	dialWord   = "dial"
	inputMark  = ">"
	endMark    = "[end]"
	commentTag = "#"
)

// Receipt is the placeholder replaced, in inputs and in expected screens,
// by a receipt number made for each run: a renewal conversation then never
// meets the receipt of an earlier run.
const Receipt = "{receipt}"

// placeholder is {receipt} or any other {word}, which in an expected
// screen stands for any text (a date that moves with the demo data, say).
var placeholder = regexp.MustCompile(`\{[a-z][a-z0-9_-]*\}`)

// Parse reads a conversation file; name is used in messages.
func Parse(name, text string) (*Conversation, error) {
	c := &Conversation{Name: name}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	i := 0
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, i+1, fmt.Sprintf(format, args...))
	}
	for ; i < len(lines) && !isHopLine(lines[i]); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, commentTag) {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		var field *string
		switch key {
		case keyPhone:
			field = &c.Phone
		case keyProvider:
			field = &c.Provider
		case keyCode:
			field = &c.Code
		}
		switch {
		case !ok || field == nil:
			return nil, fail("want %q, %q or %q followed by ': value', or the first hop (%q or %q), not %q",
				keyPhone, keyProvider, keyCode, dialWord, inputMark+" input", line)
		case *field != "":
			return nil, fail("%s is given twice", key)
		}
		*field = value
	}
	for _, f := range []struct{ key, value, example string }{
		{keyPhone, c.Phone, "+255712111222"}, {keyProvider, c.Provider, registry.Default().Name}, {keyCode, c.Code, "*384*1234#"},
	} {
		if f.value == "" {
			return nil, fmt.Errorf("%s: the header lacks %q (e.g. \"%s: %s\")", name, f.key, f.key, f.example)
		}
	}
	open := false // a session is waiting for input
	for i < len(lines) {
		h, next, err := parseHop(name, lines, i)
		if err != nil {
			return nil, err
		}
		i = h.Line - 1
		switch {
		case !h.Dial && !open && len(c.Hops) == 0:
			return nil, fail("the first hop must be %q: a conversation starts by dialling", dialWord)
		case !h.Dial && !open:
			return nil, fail("input after a screen marked %s: dial again first", endMark)
		}
		if err := checkPlaceholders(h.Input); err != nil {
			return nil, fail("%v", err)
		}
		c.Hops = append(c.Hops, h)
		open = !h.End
		i = next
	}
	if len(c.Hops) == 0 {
		return nil, fmt.Errorf("%s: no hops: after the header, write %q and the screen expected", name, dialWord)
	}
	return c, nil
}

func isHopLine(line string) bool {
	_, _, ok := hopLine(line)
	return ok
}

// hopLine reads "dial", "dial <route>" or "> <input>".
func hopLine(line string) (dial bool, input string, ok bool) {
	line = strings.TrimRight(line, " \t")
	switch {
	case line == dialWord:
		return true, "", true
	case strings.HasPrefix(line, dialWord+" "):
		return true, strings.TrimSpace(strings.TrimPrefix(line, dialWord)), true
	case line == inputMark:
		return false, "", true
	case strings.HasPrefix(line, inputMark+" "):
		return false, strings.TrimPrefix(line, inputMark+" "), true
	}
	return false, "", false
}

// parseHop reads the block starting at lines[i]: comments, the hop line,
// the screen up to the next separator, and [end] if the session ends.
func parseHop(name string, lines []string, i int) (Hop, int, error) {
	for i < len(lines) && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(lines[i], commentTag)) {
		i++
	}
	if i == len(lines) {
		return Hop{}, i, fmt.Errorf("%s:%d: a %s with no hop after it", name, i, separator)
	}
	dial, input, ok := hopLine(lines[i])
	if !ok {
		return Hop{}, i, fmt.Errorf("%s:%d: want %q or %q to start a hop, not %q", name, i+1, dialWord, inputMark+" input", lines[i])
	}
	h := Hop{Line: i + 1, Dial: dial, Input: input}
	i++
	for ; i < len(lines) && strings.TrimRight(lines[i], " \t") != separator; i++ {
		h.Screen = append(h.Screen, strings.TrimRight(lines[i], " \t"))
	}
	h.Screen = trimBlankTail(h.Screen)
	if n := len(h.Screen); n > 0 && h.Screen[n-1] == endMark {
		h.Screen, h.End = trimBlankTail(h.Screen[:n-1]), true
	}
	if i < len(lines) {
		i++ // the separator
	}
	return h, i, nil
}

func trimBlankTail(lines []string) []string {
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// checkPlaceholders refuses a placeholder in an input other than
// {receipt}: an input is sent, and "any text" cannot be.
func checkPlaceholders(input string) error {
	for _, p := range placeholder.FindAllString(input, -1) {
		if p != Receipt {
			return fmt.Errorf("%s in an input: only %s may be typed (a fresh receipt number each run)", p, Receipt)
		}
	}
	return nil
}

// String is the conversation as a file.
func (c *Conversation) String() string {
	var b strings.Builder
	b.WriteString(c.header())
	for i, h := range c.Hops {
		if i > 0 {
			b.WriteString(separator + "\n")
		}
		b.WriteString(h.String())
	}
	return b.String()
}

func (c *Conversation) header() string {
	return fmt.Sprintf("%s: %s\n%s: %s\n%s: %s\n\n", keyPhone, c.Phone, keyProvider, c.Provider, keyCode, c.Code)
}

// String is the hop as its block in a file, without the separator.
func (h Hop) String() string {
	var b strings.Builder
	switch {
	case h.Dial && h.Input == "":
		b.WriteString(dialWord)
	case h.Dial:
		b.WriteString(dialWord + " " + h.Input)
	case h.Input == "":
		b.WriteString(inputMark)
	default:
		b.WriteString(inputMark + " " + h.Input)
	}
	b.WriteByte('\n')
	for _, line := range h.Screen {
		b.WriteString(line + "\n")
	}
	if h.End {
		b.WriteString(endMark + "\n")
	}
	return b.String()
}
