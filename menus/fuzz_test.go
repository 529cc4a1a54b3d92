package menus

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNext applies any input at every node: never a panic, never an error
// from a user's input, every screen within budget, the state always valid.
func FuzzNext(f *testing.F) {
	for _, s := range []string{"", "0", "00", "1", "101000001", "999", "abc!", "١٢٣", "😀", "\xff", "1*2", strings.Repeat("9", 5000)} {
		f.Add(s)
	}
	e := newTestEngine(newFake())
	f.Fuzz(func(t *testing.T, in string) {
		for name := range e.nodes {
			st, scr, err := e.Next(context.Background(), stranger, State{Node: name, Back: []string{NodeMain}}, in)
			if err != nil {
				t.Fatalf("%s %q: %v", name, in, err)
			}
			if n := utf8.RuneCountInString(scr.Text); n > screenBudget || n == 0 {
				t.Fatalf("%s %q: %d characters", name, in, n)
			}
			if _, ok := e.nodes[st.Node]; !ok {
				t.Fatalf("%s %q: unknown node %q", name, in, st.Node)
			}
		}
	})
}
