package providers

import "strings"

// phoneTail is how many trailing characters of a phone number logs, errors
// and stored reasons may show: enough for support staff to tell numbers
// apart, too few to call anyone (a data-protection law's "personal data").
const phoneTail = 3

// MaskPhone hides all of a phone number but a leading '+' and its last three
// characters, whatever its format or provider: "+255712345678" →
// "+*********678", "0712111222" → "*******222". A sender that is no phone
// number ("MPESA") shows no more ("**ESA"), and anything of three characters
// or fewer is "***". Every log line that names a caller, sender or recipient
// goes through it.
func MaskPhone(phone string) string {
	digits, plus := strings.CutPrefix(phone, "+")
	runes := []rune(digits)
	if len(runes) <= phoneTail {
		return "***"
	}
	masked := strings.Repeat("*", len(runes)-phoneTail) + string(runes[len(runes)-phoneTail:])
	if plus {
		return "+" + masked
	}
	return masked
}

// minPhoneDigits is the shortest run of digits MaskPhones takes for a phone
// number: shorter runs are error codes, years and amounts.
const minPhoneDigits = 7

// MaskPhones masks as MaskPhone every phone-number-like run in free text (7
// or more digits, with an optional leading '+'): providers quote the
// recipient in their error messages ("The 'To' number +255712345678 is not
// valid"), and those reach the logs and the outbox. Mask before cutting text
// short, so that no number is cut below the length that finds it.
func MaskPhones(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		if s[j] == '+' {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k-j < minPhoneDigits {
			end := max(k, i+1)
			b.WriteString(s[i:end])
			i = end
			continue
		}
		b.WriteString(MaskPhone(s[i:k]))
		i = k
	}
	return b.String()
}
