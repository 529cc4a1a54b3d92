// Package providers holds what every aggregator package shares: the normalised
// USSD hop, the reply to render, and the rules for turning an aggregator's input
// field into the user's newest input; the normalised SMS and the SMS clients'
// one result and error; and Provider, the contract by which each aggregator
// declares itself. Each aggregator lives in its own sub-package
// (providers/africastalking, providers/hubtel, ...), listed in
// providers/registry, and knows nothing of menus.
//
// Aggregators send input in one of two ways (docs/providers.md, "What every USSD wire shares"):
//
//   - accumulated: every hop carries the whole '*'-joined input history (Africa's
//     Talking). The first hop's text is a pre-dialled route ("1*12345678").
//   - last-only: every hop carries only the newest input (Hubtel, Nalo, Arkesel,
//     Infobip, Beem). The first hop carries the full dialled string instead
//     ("*714*5*3#"), from which Route takes the pre-dialled route.
//
// Both come out of Hop.Inputs as the same thing: the route on the first hop,
// one new input on every later one.
package providers

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrMalformed marks a request that cannot be a genuine aggregator request
// (missing fields, wrong content type, undecodable body). The gateway answers
// it with a 4xx; genuine requests always get a well-formed reply.
var ErrMalformed = errors.New("malformed request")

// ErrDivergent marks a hop that cannot follow what the session last answered:
// an accumulated transcript that neither repeats nor extends the stored one, or
// a second session start for a session already under way (a late or reordered
// hop).
var ErrDivergent = errors.New("transcript does not extend the session")

// ErrEnded is what Inputs returns for an end-of-session signal. Such a hop only
// closes the session; it has no input to apply (docs/providers.md, "Replay keys", rule 5).
var ErrEnded = errors.New("hop ends the session")

// ErrTooLong marks an accumulated transcript longer than MaxTranscript: no
// session typed that much, and going on would store it. The session ends.
var ErrTooLong = errors.New("transcript longer than any session's")

// Limits on what one hop may carry into the menus and into Redis.
const (
	// MaxInput is the longest input a hop can carry, in characters: a USSD
	// string holds at most 182 (160 octets of packed 7-bit GSM). Anything
	// longer cannot come from a phone; Inputs and Bound turn it into
	// Unreadable, so that the menus refuse it like any wrong input and the
	// text itself is neither stored nor looked up.
	MaxInput = 182
	// MaxTranscript is the longest accumulated transcript (Africa's Talking
	// text) a session may reach, in bytes. A long real session (a renewal
	// with a few corrections, back and forth through the menus) types some
	// hundred bytes; the transcript is stored with the session and compared
	// on every hop, so beyond this the session ends (Bound).
	MaxTranscript = 2048
	// MaxSessionID is the longest session id a hop may carry, in bytes. No
	// aggregator documents one (Africa's Talking's are some 38 bytes); the
	// bound is generous, and keeps attacker-sized strings out of Redis keys
	// (sessions refuses longer ones too) and log lines.
	MaxSessionID = 128
)

// Unreadable stands for an input the gateway cannot read as typed: each run
// of invalid UTF-8 bytes in an input becomes it (ValidUTF8), and an input
// longer than MaxInput becomes it whole. It is the Unicode replacement
// character, which no menu accepts: the caller gets the menu's answer to a
// wrong input ("Invalid choice." and the screen again).
const Unreadable = "\uFFFD"

// ValidUTF8 returns the user's input text with each run of invalid UTF-8
// bytes replaced by Unreadable. Every wire reads its input field through it
// rather than refusing the request: a byte the network mangled deserves a
// screen, not the aggregator's error. The replacement is deterministic, so an
// accumulated transcript that repeats the same bytes compares equal on the
// next hop. Valid text is returned as it is, without copying.
func ValidUTF8(text string) string { return strings.ToValidUTF8(text, Unreadable) }

// ReplayKeyStart is the replay key of an aggregator-marked session start
// (Hop.Start) when the aggregator numbers nothing: a retried start is then
// replayed like any other retried hop.
const ReplayKeyStart = "start"

// Hop is one USSD request from an aggregator, normalised.
type Hop struct {
	Provider  string // "africastalking", "hubtel", ...
	SessionID string
	// Phone is the subscriber's number: as AT sends it ("+255712345678"), and
	// for aggregators that send international digits without '+'
	// ("233246912184") with the '+' added. A national number ("0244123456") is
	// kept as sent. Empty only on End hops that carry none (Infobip /end).
	Phone string
	// ServiceCode is the code the session was dialled on, as the aggregator
	// writes it ("*384*1234#", Hubtel "714*5"). Empty when the wire does not
	// carry it (Nalo, Arkesel, Beem; Infobip hops without shortCode): the
	// gateway fills in its configured code, which Inputs needs to find a
	// pre-dialled route.
	ServiceCode string
	// Network is the operator as the aggregator names it: MCC+MNC ("64004",
	// AT) or a name ("mtn-gh" Hubtel, "MTN" Nalo). Empty when not sent.
	Network string
	// Text is the aggregator's input field: the whole '*'-joined input history
	// when Accumulated (Africa's Talking), otherwise only the newest input
	// (empty on Start and End hops).
	Text        string
	Accumulated bool
	// ReplayKey is equal for a retried hop and different for every new one
	// (docs/providers.md, "Replay keys"): "t:"+transcript for AT, "seq:"+Sequence for Hubtel,
	// ReplayKeyStart for a start that carries no number. Empty means the
	// aggregator gives the hop no key of its own: the gateway derives one with
	// KeyAt.
	ReplayKey string

	// Start is set when the aggregator marks the hop as the session's first
	// (Hubtel Initiation, Nalo MSGTYPE true, Arkesel newSession, Infobip
	// /start, Beem initiate). AT does not say; its Start is always false.
	Start bool
	// Dialled is, on a last-only Start hop, the full string the user dialled
	// ("*714*5*3#"). Inputs takes the pre-dialled route from it.
	Dialled string
	// End marks an end-of-session signal (Hubtel Release and Timeout, Infobip
	// /end, Beem terminate). It must only close the session, never step a menu
	// or write anything; the provider's Body still renders the acknowledgement
	// the aggregator expects.
	End bool
	// Seq is the aggregator's own hop number when it sends one (Hubtel
	// Sequence, 1 on Initiation), 0 otherwise. See Stale.
	Seq int
	// Echo is what the provider's reply must repeat from the request.
	Echo Echo
}

// MarkStart marks h as an aggregator-signalled session start on the dialled
// string. The start gets ReplayKeyStart, so that a retried start is replayed
// rather than taken for a second session start; an aggregator that numbers its
// hops overrides the key afterwards.
func (h *Hop) MarkStart(dialled string) {
	h.Start, h.Dialled, h.ReplayKey = true, dialled, ReplayKeyStart
}

// Echo holds request fields that a provider's reply must repeat verbatim. Only
// the provider packages read it, when rendering.
type Echo struct {
	Account   string // aggregator-issued account or app id (Nalo USERID, Arkesel userID)
	MSISDN    string // the subscriber number exactly as sent (Nalo, Arkesel, Beem)
	RequestID string // the request's own id (Beem payload.request_id)
}

// Reply is what the gateway answers to a hop.
type Reply struct {
	Text string
	End  bool // close the session (AT "END", Hubtel "Release", Nalo MSGTYPE false, ...)
}

// Screen is the text to show, trimmed: stray whitespace or a trailing newline
// would cost characters of the screen budget.
func (r Reply) Screen() string { return strings.TrimSpace(r.Text) }

// Closes reports whether answering h with r ends the session: r says so, or h
// is an end-of-session signal, whose acknowledgement must not reopen it.
func (r Reply) Closes(h Hop) bool { return r.End || h.End }

// Inputs returns the user's new inputs in this hop, given the transcript the
// session last answered (prev, only meaningful for accumulated input) and
// whether the session is new.
//
// Accumulated: on the first hop the text is a pre-dialled route
// ("*384*1*12345678#" arrives as "1*12345678") and splits on '*'. After that
// the newest input is the suffix after prev+"*", never split("*")[last]: the
// user may type a '*' inside free text (the suffix method of vumi's Safaricom
// transport).
//
// Last-only: on the first hop the route is what Route finds in Dialled after
// the service code (a first hop that is not a Start has no Dialled: the
// gateway answers it before asking for its inputs, as a session it lost). After the first hop the newest
// input is Text, whatever it contains; a Start for a session already under way
// is a late duplicate and returns ErrDivergent.
//
// An input, or a dialled route, longer than MaxInput comes out as the one
// input Unreadable.
//
// End hops return ErrEnded: they carry no input to apply.
func (h Hop) Inputs(prev string, first bool) ([]string, error) {
	if h.End {
		return nil, ErrEnded
	}
	if !h.Accumulated {
		switch {
		case first && tooLong(h.Dialled):
			return []string{Unreadable}, nil
		case first:
			return Route(h.Dialled, h.ServiceCode), nil
		case h.Start:
			return nil, ErrDivergent
		default:
			return []string{bounded(h.Text)}, nil
		}
	}
	if first {
		switch {
		case h.Text == "":
			return nil, nil
		case tooLong(h.Text):
			return []string{Unreadable}, nil
		}
		return strings.Split(h.Text, "*"), nil
	}
	switch {
	case prev == "":
		return []string{bounded(h.Text)}, nil
	case strings.HasPrefix(h.Text, prev+"*"):
		return []string{bounded(h.Text[len(prev)+1:])}, nil
	default:
		return nil, ErrDivergent
	}
}

// Bound holds h to the limits before the gateway reads or stores anything of
// it. A last-only input longer than MaxInput becomes Unreadable, so that
// neither the replay key derived from it (KeyAt) nor anything else keeps the
// text. An accumulated transcript longer than MaxTranscript returns
// ErrTooLong: it is the session's own record, so it cannot be shortened, and
// the session must end instead. End hops are left as they are.
func (h *Hop) Bound() error {
	switch {
	case h.End:
		return nil
	case h.Accumulated && len(h.Text) > MaxTranscript:
		return ErrTooLong
	case !h.Accumulated:
		h.Text = bounded(h.Text)
	}
	return nil
}

// tooLong reports whether input has more than MaxInput characters.
func tooLong(input string) bool {
	return len(input) > MaxInput && utf8.RuneCountInString(input) > MaxInput
}

// bounded returns input, or Unreadable when it is too long.
func bounded(input string) string {
	if tooLong(input) {
		return Unreadable
	}
	return input
}

// Route returns the pre-dialled route in a full dial string: the '*'-separated
// parts after the service code ("*714*5*3*100#" on code "714*5" → ["3",
// "100"]). The service code may be written with or without its leading '*' and
// trailing '#'. There is no route when the code is unknown (empty), when the
// dial string does not start with the code followed by '*', or when nothing
// follows it; empty parts ("**") are skipped.
//
// This is ussd-menu-builder's text.slice(serviceCode.length+2, -1) made
// strict: a dial string on another code (a shared callback URL) or a code that
// merely shares digits ("*7145#" on "714") yields no route rather than a wrong
// one.
func Route(dialled, serviceCode string) []string {
	code, dial := bareCode(serviceCode), bareCode(dialled)
	if code == "" || dial == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(dial, code)
	if !ok {
		return nil
	}
	if rest, ok = strings.CutPrefix(rest, "*"); !ok {
		return nil
	}
	var route []string
	for part := range strings.SplitSeq(rest, "*") {
		if part != "" {
			route = append(route, part)
		}
	}
	return route
}

// bareCode strips the surrounding space, one leading '*' and one trailing '#'
// from a service code or dial string: "*714*5#", "714*5#", "*714*5" and
// "714*5" all become "714*5".
func bareCode(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "*")
	return strings.TrimSuffix(s, "#")
}

// KeyAt returns the replay key the gateway checks and stores for h, given
// answered, the number of hops the session had answered when h arrived: read
// before h waits for the session lock.
//
// A hop with its own ReplayKey keeps it. A hop without one (last-only
// aggregators that number nothing: Nalo, Arkesel, Infobip, Beem after their
// start) gets "n:<answered>:<Text>". A retry that arrives while the original
// is still being answered saw the same count and the same input, waits on the
// lock, and then finds its key stored: it is replayed. The user's next input
// can only arrive after that answer, so it sees a higher count and is new even
// when the user types the same thing twice ("98", "98"). What no key can tell
// apart is a retry that arrives after its original was answered from a user
// repeating the same input: it is applied as new. Writes stay single because
// every business write carries its own idempotency key (docs/providers.md, "Replay keys",
// rule 3).
func (h Hop) KeyAt(answered int) string {
	if h.ReplayKey != "" {
		return h.ReplayKey
	}
	return "n:" + strconv.Itoa(answered) + ":" + h.Text
}

// Stale reports whether h is older than the session's next hop: its
// aggregator numbers hops (Seq > 0) and h's number is not beyond the count the
// session has answered. A stale hop that is not a replay (its key differs from
// the last answered one) is a late or reordered hop, to be refused like
// ErrDivergent. Aggregators that number nothing are never stale.
func (h Hop) Stale(answered int) bool {
	return h.Seq > 0 && h.Seq <= answered
}

// BoundTo reports whether h may continue a session that began with phone and
// serviceCode (docs/providers.md, "Authentication of callbacks": a session stays bound to its first phone
// number and service code). Service codes are compared only when both are
// known: some wires carry the code on the first hop alone (Infobip shortCode).
// End hops are not checked: they only close the session, and some carry
// neither (Infobip /end).
func (h Hop) BoundTo(phone, serviceCode string) bool {
	if h.End {
		return true
	}
	return h.Phone == phone && (h.ServiceCode == "" || serviceCode == "" || h.ServiceCode == serviceCode)
}
