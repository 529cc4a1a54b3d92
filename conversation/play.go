package conversation

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"strings"

	"github.com/openimis/imis-gateway/providers/simphone"
)

// Gateway is a running gateway conversations are played against.
type Gateway struct {
	BaseURL string                       // e.g. http://localhost:8080
	Token   func(provider string) string // the provider's callback token
	Client  *http.Client
}

// Mismatch is the first screen of a conversation that is not the one its
// file expects.
type Mismatch struct {
	Conversation string // the file's name
	Hop          Hop    // with {receipt} replaced in its input
	Number       int    // the hop's place in the conversation, from 1
	Want         []string
	Got          []string
}

// Play dials as the conversation says, a fresh session id for each dial,
// and compares each screen with the file's. It returns the number of hops
// played and the first screen that differs (nil when every one matched);
// an error means the gateway could not be asked (unreachable, wrong token,
// unknown provider), which says nothing about the screens.
func (g Gateway) Play(ctx context.Context, c *Conversation) (int, *Mismatch, error) {
	phone, err := simphone.New(c.Provider, g.BaseURL, g.Token(c.Provider), c.Phone, c.Code, g.Client)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	receipt, err := freshReceipt()
	if err != nil {
		return 0, nil, err
	}
	open := false // the gateway waits for an input in the current session
	for i, h := range c.Hops {
		h.Input = strings.ReplaceAll(h.Input, Receipt, receipt)
		var s simphone.Screen
		if h.Dial {
			if err := hangup(ctx, phone, open); err != nil {
				return i, nil, fmt.Errorf("%s:%d: ending the session before this dial: %w", c.Name, h.Line, err)
			}
			s, err = phone.Dial(ctx, h.Input)
		} else {
			s, err = phone.Send(ctx, h.Input)
		}
		if err != nil {
			return i, nil, fmt.Errorf("%s:%d: hop %d (%s): %w", c.Name, h.Line, i+1, h.title(), err)
		}
		open = !s.End
		want, got := expected(h, receipt), ScreenLines(s)
		if !matches(want, got) {
			return i + 1, &Mismatch{Conversation: c.Name, Hop: h, Number: i + 1, Want: want, Got: got}, nil
		}
	}
	// A session left waiting would otherwise look, to the gateway, like a
	// call the network dropped.
	if err := hangup(ctx, phone, open); err != nil {
		return len(c.Hops), nil, fmt.Errorf("%s: ending the last session: %w", c.Name, err)
	}
	return len(c.Hops), nil, nil
}

func hangup(ctx context.Context, phone *simphone.Phone, open bool) error {
	if !open {
		return nil
	}
	return phone.Hangup(ctx)
}

// freshReceipt is a receipt number no earlier run used, as far as ten
// random digits can tell: digits only, which every keypad and wire carries.
func freshReceipt() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1e10))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%010d", n), nil
}

// ScreenLines is a screen as a file holds it: its lines without trailing
// spaces, and [end] when the gateway ended the session.
func ScreenLines(s simphone.Screen) []string {
	var lines []string
	for _, line := range strings.Split(s.Text, "\n") {
		lines = append(lines, strings.TrimRight(line, " \t"))
	}
	lines = trimBlankTail(lines)
	if s.End {
		lines = append(lines, endMark)
	}
	return lines
}

// expected is the hop's screen as ScreenLines gives one, with {receipt}
// replaced.
func expected(h Hop, receipt string) []string {
	want := make([]string, 0, len(h.Screen)+1)
	for _, line := range h.Screen {
		want = append(want, strings.ReplaceAll(line, Receipt, receipt))
	}
	if h.End {
		want = append(want, endMark)
	}
	return want
}

// lineMatches reports whether got is the expected line want, whose {word}
// placeholders stand for any text.
func lineMatches(want, got string) bool {
	if !strings.Contains(want, "{") {
		return want == got
	}
	var pattern strings.Builder
	pattern.WriteString("^")
	last := 0
	for _, loc := range placeholder.FindAllStringIndex(want, -1) {
		pattern.WriteString(regexp.QuoteMeta(want[last:loc[0]]) + ".*")
		last = loc[1]
	}
	pattern.WriteString(regexp.QuoteMeta(want[last:]) + "$")
	return regexp.MustCompile(pattern.String()).MatchString(got)
}

func matches(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if !lineMatches(want[i], got[i]) {
			return false
		}
	}
	return true
}

// title is the hop as its file writes its first line.
func (h Hop) title() string {
	first, _, _ := strings.Cut(h.String(), "\n")
	return first
}

// String shows where the conversation went another way, and how: the
// expected screen against the one the gateway sent, line by line, as a
// diff would ("-" expected only, "+" got only).
func (m *Mismatch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: hop %d (%s) got another screen (- expected, + got):\n", m.Conversation, m.Hop.Line, m.Number, m.Hop.title())
	for _, d := range diffLines(m.Want, m.Got) {
		b.WriteString("    " + d + "\n")
	}
	return b.String()
}

// diffLines aligns want and got on their longest common subsequence of
// matching lines and marks the rest; a matching line shows as the file
// writes it. Screens are a few lines, so the quadratic table costs nothing.
func diffLines(want, got []string) []string {
	// common[i][j] is the length of the longest common subsequence of
	// want[i:] and got[j:].
	common := make([][]int, len(want)+1)
	for i := range common {
		common[i] = make([]int, len(got)+1)
	}
	for i := len(want) - 1; i >= 0; i-- {
		for j := len(got) - 1; j >= 0; j-- {
			if lineMatches(want[i], got[j]) {
				common[i][j] = common[i+1][j+1] + 1
			} else {
				common[i][j] = max(common[i+1][j], common[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case i < len(want) && j < len(got) && lineMatches(want[i], got[j]):
			out = append(out, "  "+want[i])
			i, j = i+1, j+1
		case j == len(got) || (i < len(want) && common[i+1][j] >= common[i][j+1]):
			out = append(out, "- "+want[i])
			i++
		default:
			out = append(out, "+ "+got[j])
			j++
		}
	}
	return out
}
