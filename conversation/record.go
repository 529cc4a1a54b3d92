package conversation

import (
	"fmt"
	"io"

	"github.com/openimis/imis-gateway/providers/simphone"
)

// Recorder writes a conversation as it is played by hand, one hop at a
// time, so that what was played so far is in the file whenever the player
// stops.
type Recorder struct {
	w    io.Writer
	hops int
}

// NewRecorder writes the header of a conversation of phone dialling code
// through provider.
func NewRecorder(w io.Writer, phone, provider, code string) (*Recorder, error) {
	c := Conversation{Phone: phone, Provider: provider, Code: code}
	if _, err := io.WriteString(w, c.header()); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return &Recorder{w: w}, nil
}

// Dial records a dial (route is the pre-dialled route, "" for none) and the
// screen it got.
func (r *Recorder) Dial(route string, s simphone.Screen) error {
	return r.record(Hop{Dial: true, Input: route}, s)
}

// Send records an input and the screen it got.
func (r *Recorder) Send(input string, s simphone.Screen) error {
	return r.record(Hop{Input: input}, s)
}

func (r *Recorder) record(h Hop, s simphone.Screen) error {
	lines := ScreenLines(s)
	if s.End {
		lines = lines[:len(lines)-1]
	}
	h.Screen, h.End = lines, s.End
	block := h.String()
	if r.hops > 0 {
		block = separator + "\n" + block
	}
	r.hops++
	if _, err := io.WriteString(r.w, block); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	return nil
}
