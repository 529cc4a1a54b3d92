package menus

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/policystore"
)

func TestNameMasking(t *testing.T) {
	const full, masked = "Amina Juma", "A*** J***"
	tests := []struct {
		name          string
		caller        string
		phone, headPh string
		want          string
	}{
		{"insuree, stored local", "+255712345678", "0712345678", "", full},
		{"insuree, stored local with spaces", "+255712345678", "0712 345 678", "", full},
		{"insuree, stored international with spaces", "+255712345678", "+255 712 345 678", "", full},
		{"insuree, stored without plus", "+255712345678", "255712345678", "", full},
		{"insuree, stored E.164", "+255712345678", "+255712345678", "", full},
		{"insuree, stored with dashes and text", "+255712345678", "tel. 0712-345-678", "", full},
		{"caller sent without plus", "255712345678", "0712345678", "", full},
		{"caller sent local", "0712345678", "+255 712 345 678", "", full},
		{"family head", "+255754000111", "0712345678", "0754 000 111", full},
		{"family head, insuree has no phone", "+255754000111", "", "+255754000111", full},
		{"stranger", "+255799999999", "0712345678", "0754000111", masked},
		{"same digits, other country", "+254712345678", "0712345678", "", masked},
		{"empty stored phones", "+255712345678", "", "", masked},
		{"blank stored phone", "+255712345678", "   ", "", masked},
		{"unparsable stored phone", "+255712345678", "n/a", "none", masked},
		{"too short to be a phone", "+25512", "12", "", masked},
		{"empty caller, empty stored", "", "", "", masked},
		{"empty caller", "", "0712345678", "", masked},
		{"unparsable caller", "anonymous", "0712345678", "", masked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cov := policystore.Coverage{CHFID: "101000001", OtherNames: "Amina", LastName: "Juma",
				Phone: tt.phone, HeadPhone: tt.headPh, Policies: []policystore.PolicyCoverage{basicCovered}}
			src := &fakeSource{byCHFID: map[string]policystore.Coverage{"101000001": cov}}
			_, screens := walk(t, newTestEngine(src), Caller{Phone: tt.caller}, []string{"1", "101000001"})
			if got, _, _ := strings.Cut(last(screens).Text, "\n"); got != tt.want {
				t.Errorf("name line = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNameForms(t *testing.T) {
	tests := []struct {
		other, last string
		owner, want string
	}{
		{"Amina", "Juma", "Amina Juma", "A*** J***"},
		{"  Mary  Anne ", "O'Neil", "Mary Anne O'Neil", "M*** A*** O***"},
		{"Élodie", "Ñúñez", "Élodie Ñúñez", "É*** Ñ***"},
		{"Ram\nBahadur", "Thapa\t", "Ram Bahadur Thapa", "R*** B*** T***"},
		{"", "Juma", "Juma", "J***"},
		{strings.Repeat("n", 100), "Juma", strings.Repeat("n", 37) + "...", "n*** J***"},
		{strings.TrimSpace(strings.Repeat("a ", 50)), "", strings.Repeat("a ", 18) + "...", strings.Repeat("a*** ", 7) + "..."},
		{"Mary Anne Elizabeth Wanjiku", "Kamau-Njoroge", "Mary Anne Elizabeth Wanjiku ...", "M*** A*** E*** W*** K***"},
	}
	e := newTestEngine(newFake())
	for _, tt := range tests {
		cov := policystore.Coverage{OtherNames: tt.other, LastName: tt.last, Phone: insuree.Phone}
		if got := e.insureeName(e.newHop(context.Background(), insuree), cov); got != tt.owner {
			t.Errorf("owner sees %q %q as %q, want %q", tt.other, tt.last, got, tt.owner)
		}
		if got := e.insureeName(e.newHop(context.Background(), stranger), cov); got != tt.want {
			t.Errorf("stranger sees %q %q as %q, want %q", tt.other, tt.last, got, tt.want)
		}
	}
	// No name at all: the answer starts with the number.
	src := &fakeSource{byCHFID: map[string]policystore.Coverage{"5": {CHFID: "5"}}}
	_, screens := walk(t, newTestEngine(src), stranger, []string{"1", "5"})
	if want := "No. 5\nNo policy"; last(screens).Text != want {
		t.Errorf("nameless answer = %q, want %q", last(screens).Text, want)
	}
}

func TestPhoneRegionOption(t *testing.T) {
	for _, region := range []string{"tz", " TZ "} {
		e := New(newFake(), Options{PhoneRegion: region})
		_, screens := walk(t, e, insuree, []string{"1", "101000001"})
		if name, _, _ := strings.Cut(last(screens).Text, "\n"); name != "Amina Juma" {
			t.Errorf("region %q: name line %q", region, name)
		}
	}
	// Kenyan scheme: a local "07..." is +254, so a Tanzanian caller is a stranger.
	e := New(newFake(), Options{PhoneRegion: "KE"})
	_, screens := walk(t, e, insuree, []string{"1", "101000001"})
	if name, _, _ := strings.Cut(last(screens).Text, "\n"); name != "A*** J***" {
		t.Errorf("region KE: name line %q", name)
	}
}

// TestCallerPhoneParsedOnce: the caller's number is parsed once per call, and
// not at all on hops that show no name.
func TestCallerPhoneParsedOnce(t *testing.T) {
	h := newTestEngine(newFake()).newHop(context.Background(), insuree)
	if h.phone.parsed {
		t.Fatal("caller phone parsed before it was needed")
	}
	h.phone.matchesAny("0799999999", "")
	first := h.phone.num
	h.phone.raw = "garbage" // a second parse would now fail
	if !h.phone.matchesAny("0712345678") || h.phone.num != first {
		t.Error("caller phone parsed again within one call")
	}
}

// longest builds the longest realistic data: 100-character names and product
// names, 50-character product codes and insurance numbers, five policies.
func longest(status policystore.CoverageStatus, nameWords int) policystore.Coverage {
	name := func(c string) string {
		if nameWords <= 1 {
			return strings.Repeat(c, 100)
		}
		w := strings.Repeat(c, 100/nameWords-1)
		return strings.TrimSpace(strings.Repeat(w+" ", nameWords))
	}
	cov := policystore.Coverage{CHFID: strings.Repeat("9", 50), LastName: name("L"), OtherNames: name("O"),
		Phone: "+255 712 345 678", HeadPhone: "+255 754 000 111"}
	for i := range 5 {
		cov.Policies = append(cov.Policies, policystore.PolicyCoverage{
			ProductCode: strings.Repeat(string(rune('A'+i)), 50), ProductName: strings.Repeat("P", 100),
			Status: status, EffectiveDate: date(2026, 9, 30), ExpiryDate: date(2027, 9, 29)})
	}
	return cov
}

// TestScreensFitBudget renders every screen the engine can show with the
// longest data and checks each fits 160 characters.
func TestScreensFitBudget(t *testing.T) {
	n50 := strings.Repeat("9", 50)
	ctx := context.Background()
	var screens []Screen
	statuses := []policystore.CoverageStatus{policystore.Covered, policystore.NotYetActive, policystore.Expired,
		policystore.Suspended, policystore.CoverageStatus(42)}
	for _, status := range statuses {
		for _, words := range []int{1, 4, 50} {
			for _, c := range []Caller{insuree, stranger} {
				src := &fakeSource{byCHFID: map[string]policystore.Coverage{n50: longest(status, words)}}
				e := New(src, Options{CHFIDMaxLen: 50, Now: func() time.Time { return testNow }})
				_, scr, err := e.Begin(ctx, c, []string{"1", n50})
				if err != nil {
					t.Fatal(err)
				}
				if !scr.End || !strings.Contains(scr.Text, "\n+") || strings.Count(scr.Text, "\n") < 3 {
					t.Errorf("want the name, the number, at least one policy and +N more, got\n%s", scr.Text)
				}
				screens = append(screens, scr)
			}
		}
	}
	// Every CON screen of every node, with every notice, at the widest number.
	e := New(&fakeSource{}, Options{CHFIDMaxLen: 50})
	for name := range e.nodes {
		for _, in := range []string{"", "0", "00", "x!", n50, n50 + "9", strings.Repeat("9", 5000)} {
			_, scr, err := e.Next(ctx, stranger, State{Node: name, Back: []string{NodeMain}}, in)
			if err != nil {
				t.Fatal(err)
			}
			screens = append(screens, scr)
		}
	}
	// A huge configured width still echoes a bounded number.
	wide := New(&fakeSource{}, Options{CHFIDMaxLen: 500})
	_, scr, _ := wide.Begin(ctx, stranger, []string{"1", strings.Repeat("8", 500)})
	screens = append(screens, scr, e.Unavailable("en"), e.SessionError("en"))

	for _, scr := range screens {
		if n := utf8.RuneCountInString(scr.Text); n > screenBudget {
			t.Errorf("%d characters (budget %d):\n%s", n, screenBudget, scr.Text)
		}
	}
}

func TestFitLines(t *testing.T) {
	line := func(i int) string { return strings.Repeat("x", 30) }
	more := func(n int) string { return "+" + string(rune('0'+n)) + " more" }
	tests := []struct {
		head   string
		n      int
		budget int
		want   string
	}{
		{"H", 2, 160, "H\n" + strings.Repeat("x", 30) + "\n" + strings.Repeat("x", 30)},
		{"H", 5, 70, "H\n" + strings.Repeat("x", 30) + "\n+4 more"},
		{"H", 5, 80, "H\n" + strings.Repeat("x", 30) + "\n" + strings.Repeat("x", 30) + "\n+3 more"},
		{"H", 2, 63, "H\n" + strings.Repeat("x", 30) + "\n" + strings.Repeat("x", 30)},
		// The first line is shortened rather than dropped.
		{"H", 1, 20, "H\n" + strings.Repeat("x", 15) + "..."},
		{"H", 3, 30, "H\n" + strings.Repeat("x", 17) + "...\n+2 more"},
	}
	for _, tt := range tests {
		got := fitLines(tt.head, tt.n, line, more, tt.budget)
		if got != tt.want {
			t.Errorf("fitLines(%q, %d, budget %d) =\n%q\nwant\n%q", tt.head, tt.n, tt.budget, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > tt.budget {
			t.Errorf("%d runes over budget %d", n, tt.budget)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"Basic Cover", 20, "Basic Cover"},
		{"Basic Cover", 11, "Basic Cover"},
		{"Basic Cover", 10, "Basic ..."},
		{"Community Health Fund", 12, "Community..."},
		{strings.Repeat("A", 50), 20, strings.Repeat("A", 17) + "..."},
		{"Ñúñez Ñúñez", 8, "Ñúñez..."},
		{"abcdef", 3, "..."},
		{"abcdef", 2, ".."},
	}
	for _, tt := range tests {
		got := truncate(tt.s, tt.max)
		if got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
		if utf8.RuneCountInString(got) > tt.max {
			t.Errorf("truncate(%q, %d) = %q is too long", tt.s, tt.max, got)
		}
	}
}

func TestValidCHFID(t *testing.T) {
	for _, ok := range []string{"1", "12345", "10100000", "101000001", "123456789012", "AB12cd34"} {
		if !validCHFID(ok, 12) {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"", "1234567890123", "12 3", "12.3", "١٢٣", "😀", "é"} {
		if validCHFID(bad, 12) {
			t.Errorf("%q accepted", bad)
		}
	}
}
