package menus

import "strings"

// The main menu (README.md, "The USSD menu"): a title, then the items that apply to the
// caller, numbered from 1 in Engine.items order.

func (e *Engine) mainView(c *call, _ *State) (view, error) {
	var items []string
	for _, it := range e.items {
		if it.applies(c) {
			items = append(items, c.item(len(items)+1, c.t(it.label, nil)))
		}
	}
	return view{title: c.t(msgMainTitle, nil), body: strings.Join(items, "\n")}, nil
}

func (e *Engine) mainInput(c *call, _ State, in string) (step, error) {
	choice := menuChoice(in)
	n := 0
	for _, it := range e.items {
		if !it.applies(c) {
			continue
		}
		if n++; n == choice {
			return step{to: it.node}, nil
		}
	}
	return step{notice: c.t(msgInvalidChoice, nil)}, nil
}

// item renders one numbered menu line.
func (c *call) item(n int, label string) string {
	return c.t(msgMainItem, vars{"Number": n, "Label": label})
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
