package gsm7

import "unicode/utf16"

// Single-part and per-part capacities of an SMS (docs/providers.md, "SMS parts"): a
// concatenated message spends 7 septets (GSM-7) or 3 units (UCS-2) of each
// part on the user data header.
const (
	SingleGSM7 = 160
	SingleUCS2 = 70
	PartGSM7   = 153
	PartUCS2   = 67
)

// Parts returns the encoding of an SMS with text s, its length in that
// encoding's units, and how many parts the network carries it in. An escape
// pair never straddles two parts, nor does a surrogate pair, so a part may
// hold one unit less than its capacity. An empty text is one part.
func Parts(s string) (Encoding, int, int) {
	enc, n := Measure(s)
	single, part := SingleGSM7, PartGSM7
	if enc == UCS2 {
		single, part = SingleUCS2, PartUCS2
	}
	if n <= single {
		return enc, n, 1
	}
	parts, used := 1, 0
	for _, r := range s {
		var k int
		if enc == GSM7 {
			k = Septets(r)
		} else {
			k = max(utf16.RuneLen(r), 1)
		}
		if used+k > part {
			parts++
			used = 0
		}
		used += k
	}
	return enc, n, parts
}
