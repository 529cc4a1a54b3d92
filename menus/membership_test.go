package menus

import (
	"context"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/openimis"
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
			cov := openimis.Coverage{CHFID: "101000001", OtherNames: "Amina", LastName: "Juma",
				Holder: openimis.Holder{Phone: tt.phone, HeadPhone: tt.headPh}, Policies: []openimis.PolicyCoverage{basicCovered}}
			src := &fakeSource{byCHFID: map[string]openimis.Coverage{"101000001": cov}}
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
		{strings.Repeat("n", 100), "Juma", strings.Repeat("n", 39) + "…", "n*** J***"},
		{strings.TrimSpace(strings.Repeat("a ", 50)), "", strings.Repeat("a ", 19) + "a…", strings.Repeat("a*** ", 7) + "a***…"},
		{"Mary Anne Elizabeth Wanjiku", "Kamau-Njoroge", "Mary Anne Elizabeth Wanjiku …", "M*** A*** E*** W*** K***"},
	}
	e := newTestEngine(newFake())
	for _, tt := range tests {
		cov := openimis.Coverage{OtherNames: tt.other, LastName: tt.last, Holder: openimis.Holder{Phone: insuree.Phone}}
		if got := e.insureeName(e.newCall(context.Background(), insuree, ""), cov); got != tt.owner {
			t.Errorf("owner sees %q %q as %q, want %q", tt.other, tt.last, got, tt.owner)
		}
		if got := e.insureeName(e.newCall(context.Background(), stranger, ""), cov); got != tt.want {
			t.Errorf("stranger sees %q %q as %q, want %q", tt.other, tt.last, got, tt.want)
		}
	}
	// No name at all: the answer starts with the number.
	src := &fakeSource{byCHFID: map[string]openimis.Coverage{"5": {CHFID: "5"}}}
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
	c := newTestEngine(newFake()).newCall(context.Background(), insuree, "")
	if c.phone.parsed {
		t.Fatal("caller phone parsed before it was needed")
	}
	c.phone.matchesAny("0799999999", "")
	first := c.phone.key
	c.phone.raw = "garbage" // a second parse would now fail
	if !c.phone.matchesAny("0712345678") || c.phone.key != first {
		t.Error("caller phone parsed again within one call")
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
