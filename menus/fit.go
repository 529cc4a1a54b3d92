package menus

import (
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/openimis/imis-gateway/menus/gsm7"
)

// Budget is the longest text a screen (or a single SMS part) may have, in
// each encoding (docs/providers.md, "Screen budgets and encodings"): GSM-7 septets, where an extension
// character counts two, and UCS-2 (UTF-16) units, where a Devanagari vowel
// sign counts one of its own. One character without a GSM-7 code makes the
// whole screen UCS-2.
type Budget struct {
	GSM7 int
	UCS2 int
}

// DefaultBudget is what every aggregator carries: a USSD string is 160
// octets (182 septets, 80 UCS-2 units), and some aggregators and operators
// allow less; a single SMS part is 160 septets or 70 units.
var DefaultBudget = Budget{GSM7: 160, UCS2: 70}

// smsBudget is one SMS part: replies aim to cost one message.
var smsBudget = Budget{GSM7: gsm7.SingleGSM7, UCS2: gsm7.SingleUCS2}

func (b Budget) orDefault(def Budget) Budget {
	if b.GSM7 <= 0 || b.UCS2 <= 0 {
		return def
	}
	return b
}

// fitter lays texts out for one language within one budget.
//
// Texts are built from catalog messages and stored data, then encoded once
// at the end (encode): when substituting typographic characters (and, for
// a transliterated language, accented letters) makes the text GSM-7, that
// is what is sent; otherwise the text goes as UCS-2, untouched but for
// emoji, which UCS-2 cannot carry. Every layout decision measures the
// candidate text as it would be sent, so a French screen gains its GSM-7
// room only when every character of it allows that.
//
// Cut texts end in "…", which encode turns into "..." on a GSM-7 screen and
// keeps (one unit) on a UCS-2 one.
type fitter struct {
	budget        Budget
	transliterate bool
}

const ellipsis = "…"

// minCut is the shortest shortened line worth showing ("Basic…"); a
// shorter one says nothing the "+N more" after it would not.
const minCut = 6

// encode returns s as it is sent, its encoding and its length.
func (f fitter) encode(s string) (string, gsm7.Encoding, int) {
	if n, ok := gsm7.Count(s); ok {
		return s, gsm7.GSM7, n
	}
	if n, ok := gsm7.SubstitutedCount(s, f.transliterate); ok {
		return gsm7.Substitute(s, f.transliterate), gsm7.GSM7, n
	}
	u := gsm7.StripAstral(s)
	return u, gsm7.UCS2, gsm7.Units(u)
}

// measure is encode without building the text: every layout decision
// measures candidates, and only the one sent needs its text.
func (f fitter) measure(s string) (gsm7.Encoding, int) {
	if n, ok := gsm7.Count(s); ok {
		return gsm7.GSM7, n
	}
	if n, ok := gsm7.SubstitutedCount(s, f.transliterate); ok {
		return gsm7.GSM7, n
	}
	return gsm7.UCS2, gsm7.StrippedUnits(s)
}

func (f fitter) fits(s string) bool {
	enc, n := f.measure(s)
	return n <= f.limit(enc)
}

func (f fitter) limit(enc gsm7.Encoding) int {
	if enc == gsm7.GSM7 {
		return f.budget.GSM7
	}
	return f.budget.UCS2
}

// out is the text to send for a layout: encoded, and, as a last guard,
// shortened when it does not fit. Layouts are built to fit, so the guard
// only cuts when a catalog override is too long for its budget.
func (f fitter) out(s string) string {
	text, enc, n := f.encode(s)
	if n <= f.limit(enc) {
		return text
	}
	text, _, _ = f.encode(f.shrink(s, "", ""))
	return text
}

// shrink shortens s, cut after a whole word where that keeps at least half
// of it, so that before + s + after fits; s comes back whole when it fits,
// and as a bare ellipsis when nothing of it does.
func (f fitter) shrink(s, before, after string) string {
	if f.fits(before + s + after) {
		return s
	}
	r := []rune(s)
	// The longest prefix that fits: fitting only gets easier as the prefix
	// shortens (with a UCS-2 budget at most half the GSM-7 one).
	k := longestFitting(len(r), func(k int) bool { return f.fits(before + string(r[:k]) + ellipsis + after) })
	if k <= 0 {
		return ellipsis
	}
	return string(r[:wordCut(r, k)]) + ellipsis
}

// longestFitting returns the largest k below n for which fits(k) holds, or
// -1 when none does. fits must hold up to some k and fail beyond it, as it
// does for a text that only grows with k: a binary search then measures a
// handful of candidates rather than every one.
func longestFitting(n int, fits func(k int) bool) int {
	return sort.Search(n, func(k int) bool { return !fits(k) }) - 1
}

// wordCut moves a cut after k runes back to just after a space, when one
// lies in the second half of the kept text: "Mary Anne …" says that words
// are missing, "Mary Anne Eliz…" only that letters are. Otherwise the cut
// only moves back to the end of a whole letter (clusterCut).
func wordCut(r []rune, k int) int {
	if k < len(r) && r[k] == ' ' {
		return k // already at the end of a word
	}
	for i := k - 1; i >= k/2 && i > 0; i-- {
		if r[i] == ' ' {
			return i + 1
		}
	}
	return clusterCut(r, k)
}

// clusterCut moves a cut after k runes back so that it never separates a
// letter from what combines with it: a Devanagari vowel sign, nukta or
// anusvara, or the next consonant after a virama (which would leave a half
// letter), or a joiner.
func clusterCut(r []rune, k int) int {
	for k > 0 && k < len(r) && (combines(r[k]) || r[k-1] == virama || r[k-1] == '\u200d') {
		k--
	}
	return k
}

const virama = '\u094d'

func combines(c rune) bool {
	return unicode.In(c, unicode.Mn, unicode.Mc, unicode.Me) || c == '\u200c' || c == '\u200d'
}

// fitValue renders a message around value, cut to at most max runes and
// further, down to minCut, while the message followed by rest does not
// fit: a long value shortens, and the words around it stay.
func (c *call) fitValue(value string, max int, rest string, render func(string) string) string {
	r := []rune(value)
	k := min(len(r), max)
	for k > minCut && !c.fit.fits(render(truncate(value, k))+rest) {
		k--
	}
	return render(truncate(value, k))
}

// lines joins the non-empty parts with newlines.
func lines(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
	return b.String()
}

// view is a CON screen before layout.
type view struct {
	title string // first line, dropped first when the screen is short of room
	body  string
	nav   string // navigation line; dropped only when nothing else helps
	// layout, when set, lays the whole screen out, notice included, instead
	// of screen: for screens whose lines give way in an order of their own.
	// nav is then still the navigation line it ends with, when it does.
	layout func(notice string) string
}

// screen lays out notice (a mistake, a retry reason; "" for none) above v.
// Where everything does not fit it drops the title, then the navigation
// line (the keys still work without it; it is never cut in the middle),
// then shortens the notice.
func (f fitter) screen(notice string, v view) string {
	if s := lines(notice, v.title, v.body, v.nav); f.fits(s) {
		return s
	}
	if s := lines(notice, v.body, v.nav); f.fits(s) {
		return s
	}
	if s := lines(notice, v.body); f.fits(s) || notice == "" {
		return s
	}
	return lines(f.shrink(notice, "", "\n"+v.body), v.body)
}

// give is one step of layout: line gives way, shortened to no fewer than
// keep runes (ellipsis included), or dropped when keep is 0. A line that
// cannot be shortened that far is left for a later step.
type give struct {
	line int
	keep int
}

// layout joins the non-empty lines and, while the text does not fit,
// applies the steps in order; lines no step names stay whole. A shortened
// line ends after a whole word where a space lets it. The result may still
// be too long when the steps run out: out cuts it then, as it does any text.
func (f fitter) layout(ls []string, steps ...give) string {
	ls = slices.Clone(ls)
	for _, s := range steps {
		if f.fits(lines(ls...)) {
			break
		}
		l := ls[s.line]
		switch {
		case l == "":
		case s.keep <= 0:
			ls[s.line] = ""
		default:
			before, after := lines(ls[:s.line]...), lines(ls[s.line+1:]...)
			if before != "" {
				before += "\n"
			}
			if after != "" {
				after = "\n" + after
			}
			if cut := f.shrink(l, before, after); runeLen(cut) >= s.keep {
				ls[s.line] = cut
			}
		}
	}
	return lines(ls...)
}

// fitLines joins head and as many of n lines (line(i) renders the i-th) as
// fit, then, when some are left out, more(count left out). A first line too
// long for the room left is shortened rather than dropped.
func (f fitter) fitLines(head string, n int, line func(int) string, more func(int) string) string {
	text := head
	for i := range n {
		l := line(i)
		tail := ""
		if i < n-1 {
			tail = "\n" + more(n-i-1)
		}
		if f.fits(lines(text, l) + tail) {
			text = lines(text, l)
			continue
		}
		if i == 0 {
			before := text
			if before != "" {
				before += "\n"
			}
			if cut := f.shrink(l, before, tail); runeLen(cut) >= minCut {
				text = lines(text, cut)
				continue
			}
		}
		return lines(text, more(n-i))
	}
	return text
}
