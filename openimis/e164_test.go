package openimis

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// Wherever canonicalE164 decides, it answers what the parser answers: for
// numbers of every country calling code, of every length, starting with
// every digit, and with each country's national prefix.
func TestCanonicalE164AgreesWithTheParser(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	decided := 0
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		prefix := plainNationalPrefixes()[cc]
		for n := 0; n < 60; n++ {
			nsn := strconv.Itoa(n % 10)
			if n%10 == 9 && prefix != "" {
				nsn = prefix
			}
			for range 1 + n%14 {
				nsn += strconv.Itoa(r.IntN(10))
			}
			raw := "+" + strconv.Itoa(cc) + nsn
			got, gotOK, ok := canonicalE164(raw)
			if !ok {
				continue
			}
			decided++
			var want string
			var num phonenumbers.PhoneNumber
			wantOK := phonenumbers.ParseToNumber(raw, "TZ", &num) == nil && phonenumbers.IsPossibleNumber(&num)
			if wantOK {
				want = phonenumbers.Format(&num, phonenumbers.E164)
			}
			if gotOK != wantOK || (wantOK && got != want) {
				t.Errorf("canonicalE164(%q) = %q %v; the parser says %q %v", raw, got, gotOK, want, wantOK)
			}
		}
	}
	if decided < 5000 {
		t.Errorf("decided only %d numbers without parsing", decided)
	}
	for _, raw := range []string{"0712345678", "+255 712 345 678", "255712345678", "+2550712345678", "+52 1 55 1234 5678", "+", "+1"} {
		if _, _, ok := canonicalE164(raw); ok {
			t.Errorf("canonicalE164(%q) decided; the parser should", raw)
		}
	}
}

func BenchmarkNormalizePhoneNewCaller(b *testing.B) {
	for i := range b.N {
		NormalizePhone("+2557"+strconv.Itoa(10_000_000+i%90_000_000), "TZ")
	}
}
