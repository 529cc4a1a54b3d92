package menus

import "strings"

// The main menu (DESIGN.md §2.3): a title, then the items that apply to the
// caller, numbered from 1 in Engine.items order.

func (e *Engine) mainPrompt(h *hop) string {
	var b strings.Builder
	b.WriteString(t(h.lang, msgMainTitle))
	n := 0
	for _, it := range e.items {
		if !it.applies(h.caller) {
			continue
		}
		n++
		b.WriteByte('\n')
		b.WriteString(t(h.lang, msgMainItem, n, t(h.lang, it.label)))
	}
	return b.String()
}

func (e *Engine) mainInput(h *hop, in string) (step, error) {
	choice := menuChoice(in)
	n := 0
	for _, it := range e.items {
		if !it.applies(h.caller) {
			continue
		}
		if n++; n == choice {
			return step{to: it.node}, nil
		}
	}
	return step{notice: t(h.lang, msgInvalidChoice)}, nil
}

// menuChoice reads a one- or two-digit item number; anything else is 0,
// which no item has.
func menuChoice(in string) int {
	if len(in) == 0 || len(in) > 2 {
		return 0
	}
	n := 0
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
