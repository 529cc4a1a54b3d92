package openimis

import (
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// canonicalE164 answers NormalizePhone for the usual caller number, one an
// aggregator sends already in E.164 ("+255712345678"), without running the
// parser (about 12 µs and two dozen allocations, paid on every session since
// callers rarely repeat). decided is false whenever the parser might change
// the number: a national number starting with 0 (kept as leading zeros in
// some countries), or with the national prefix the country strips. Then
// NormalizePhone parses it. A test compares both on numbers of every
// country.
func canonicalE164(raw string) (e164 string, ok, decided bool) {
	if len(raw) < 4 || len(raw) > 18 || raw[0] != '+' || !allDigits(raw[1:]) {
		return "", false, false
	}
	prefixes := plainNationalPrefixes()
	for ccLen := 1; ccLen <= 3; ccLen++ {
		cc, _ := strconv.Atoi(raw[1 : 1+ccLen])
		prefix, known := prefixes[cc]
		if !known {
			continue
		}
		nsn := raw[1+ccLen:]
		if len(nsn) < 2 || nsn[0] == '0' || (prefix != "" && len(nsn) >= len(prefix) && nsn[:len(prefix)] == prefix) {
			return "", false, false
		}
		national, err := strconv.ParseUint(nsn, 10, 64)
		if err != nil {
			return "", false, false
		}
		cc32 := int32(cc)
		n := phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &national}
		return raw, phonenumbers.IsPossibleNumber(&n), true
	}
	return "", false, false
}

// plainNationalPrefixes maps each country calling code whose prefix for
// parsing is plain digits (or none) to that prefix, from the metadata of
// the region the parser applies to the code. Codes with a pattern for a
// prefix (Mexico's, Argentina's...) are absent, so that their numbers are
// always parsed.
var plainNationalPrefixes = sync.OnceValue(func() map[int]string {
	out := map[int]string{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return out
	}
	for _, md := range coll.GetMetadata() {
		cc := int(md.GetCountryCode())
		if md.GetId() != phonenumbers.GetRegionCodeForCountryCode(cc) {
			continue // not the region whose rules the parser applies
		}
		prefix := md.GetNationalPrefixForParsing()
		if !allDigits(prefix) {
			continue
		}
		out[cc] = prefix
	}
	return out
})
