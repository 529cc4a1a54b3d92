// Package providers holds what every aggregator package shares: the normalised
// USSD hop, the reply to render, and the rules for turning an aggregator's input
// field into the user's newest input. Each aggregator lives in its own
// sub-package (providers/africastalking, ...) and knows nothing of menus.
package providers

import (
	"errors"
	"strings"
)

// ErrMalformed marks a request that cannot be a genuine aggregator request
// (missing fields, wrong content type, undecodable body). The gateway answers
// it with a 4xx; genuine requests always get a well-formed reply.
var ErrMalformed = errors.New("malformed request")

// ErrDivergent marks an accumulated transcript that neither repeats nor extends
// the one the session last answered (a late or reordered hop).
var ErrDivergent = errors.New("transcript does not extend the session")

// Hop is one USSD request from an aggregator, normalised.
type Hop struct {
	Provider    string // "africastalking", ...
	SessionID   string
	Phone       string // as the aggregator sent it, decoded (AT: "+255712345678")
	ServiceCode string
	Network     string // MCC+MNC when the aggregator sends it
	// Text is the aggregator's input field: the whole '*'-joined input history
	// when Accumulated (Africa's Talking), otherwise only the newest input.
	Text        string
	Accumulated bool
	// ReplayKey is equal for a retried hop and different for every new one
	// (protocols.md §5.4: the transcript for AT, Sequence for Hubtel, ...).
	ReplayKey string
}

// Reply is what the gateway answers to a hop.
type Reply struct {
	Text string
	End  bool // close the session (AT "END")
}

// Inputs returns the user's new inputs in this hop, given the transcript the
// session last answered (prev) and whether the session is new.
//
// On the first hop an accumulated text is a pre-dialled route
// ("*384*1*12345678#" arrives as "1*12345678") and splits on '*'. After that
// the newest input is the suffix after prev+"*", never split("*")[last]: the
// user may type a '*' inside free text (the suffix method of vumi's Safaricom
// transport).
func (h Hop) Inputs(prev string, first bool) ([]string, error) {
	if !h.Accumulated {
		if first {
			return nil, nil
		}
		return []string{h.Text}, nil
	}
	if first {
		if h.Text == "" {
			return nil, nil
		}
		return strings.Split(h.Text, "*"), nil
	}
	switch {
	case prev == "":
		return []string{h.Text}, nil
	case strings.HasPrefix(h.Text, prev+"*"):
		return []string{h.Text[len(prev)+1:]}, nil
	default:
		return nil, ErrDivergent
	}
}
