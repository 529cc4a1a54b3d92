package conversation

import (
	"reflect"
	"strings"
	"testing"
)

const header = "phone: +255712111222\nprovider: africastalking\ncode: *384*1234#\n"

func TestParse(t *testing.T) {
	c, err := Parse("membership.txt", `# The family head checks his membership.
phone: +255712111222
provider: africastalking
code: *384*1234#

dial
Health insurance
1. Check membership
---
# A comment before a hop is no part of the screen above.
> 1
Enter the insurance number:

0 Back 00 Menu

---
> 101203401
Juma Hassan Mrisho
CHF Family Basic: covered until {date}
[end]
---
dial 1*48213
H*** A*** S***
[end]
`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Conversation{Name: "membership.txt", Phone: "+255712111222", Provider: "africastalking", Code: "*384*1234#", Hops: []Hop{
		{Line: 6, Dial: true, Screen: []string{"Health insurance", "1. Check membership"}},
		{Line: 11, Input: "1", Screen: []string{"Enter the insurance number:", "", "0 Back 00 Menu"}},
		{Line: 17, Input: "101203401", Screen: []string{"Juma Hassan Mrisho", "CHF Family Basic: covered until {date}"}, End: true},
		{Line: 22, Dial: true, Input: "1*48213", Screen: []string{"H*** A*** S***"}, End: true},
	}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %#v\nwant %#v", *c, *want)
	}
	// What String writes, Parse reads back.
	again, err := Parse("membership.txt", c.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, c.String())
	}
	for i := range again.Hops {
		again.Hops[i].Line = c.Hops[i].Line
	}
	if !reflect.DeepEqual(again, c) {
		t.Errorf("read back %#v\nwant      %#v\nfrom\n%s", *again, *c, c.String())
	}
}

func TestParseSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		label, text, want string
	}{
		{"no phone", "provider: africastalking\ncode: *1#\ndial\nx\n", `c.txt: the header lacks "phone" (e.g. "phone: +255712111222")`},
		{"unknown key", header + "language: fr\ndial\nx\n", `c.txt:4: want "phone", "provider" or "code" followed by ': value', or the first hop ("dial" or "> input"), not "language: fr"`},
		{"key twice", header + "phone: +1\ndial\nx\n", "c.txt:4: phone is given twice"},
		{"no hops", header, `c.txt: no hops: after the header, write "dial" and the screen expected`},
		{"input first", header + "> 1\nx\n", `c.txt:4: the first hop must be "dial": a conversation starts by dialling`},
		{"input after the end", header + "dial\nx\n[end]\n---\n> 1\ny\n", "c.txt:8: input after a screen marked [end]: dial again first"},
		{"no hop line", header + "dial\nx\n---\nHealth insurance\n", `c.txt:7: want "dial" or "> input" to start a hop, not "Health insurance"`},
		{"trailing separator", header + "dial\nx\n---\n", "c.txt:7: a --- with no hop after it"},
		{"wildcard typed", header + "dial\nx\n---\n# a comment\n> {date}\ny\n", "c.txt:8: {date} in an input: only {receipt} may be typed (a fresh receipt number each run)"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			_, err := Parse("c.txt", tc.text)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestLineMatches(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{"Health insurance", "Health insurance", true},
		{"Health insurance", "Health insurance.", false},
		{"covered until {date}", "covered until 4 Jul 2027", true},
		{"covered until {date}", "expired on 4 Jul 2027", false},
		{"{date} to {date}", "15 Dec 2026 to 14 Dec 2027", true},
		{"{date} to {date}", "15 Dec 2026 - 14 Dec 2027", false},
		{"Paid (TZS) {amount}.", "Paid (TZS) 37,000.", true}, // the text around a placeholder is no pattern
		{"Paid (TZS) {amount}.", "Paid TZS 37,000!", false},
		{"{ not a placeholder }", "{ not a placeholder }", true},
	} {
		if got := lineMatches(tc.want, tc.got); got != tc.ok {
			t.Errorf("lineMatches(%q, %q) = %v", tc.want, tc.got, got)
		}
	}
}

func TestDiffLines(t *testing.T) {
	for _, tc := range []struct {
		label     string
		want, got []string
		diff      string
	}{
		{"one line changed", []string{"Juma", "No. 1", "covered until {date}", "[end]"}, []string{"Juma", "Nambari 1", "covered until 4 Jul 2027", "[end]"},
			"  Juma\n- No. 1\n+ Nambari 1\n  covered until {date}\n  [end]"},
		{"the session goes on", []string{"Juma", "[end]"}, []string{"Juma"}, "  Juma\n- [end]"},
		{"a line more", []string{"a", "c"}, []string{"a", "b", "c"}, "  a\n+ b\n  c"},
		{"all different", []string{"a"}, []string{"b"}, "- a\n+ b"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			if got := strings.Join(diffLines(tc.want, tc.got), "\n"); got != tc.diff {
				t.Errorf("got\n%s\nwant\n%s", got, tc.diff)
			}
		})
	}
}
