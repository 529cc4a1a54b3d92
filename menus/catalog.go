package menus

import "fmt"

// msg identifies one user-facing text. Every text the phone shows lives in
// the catalogs below and nowhere else, so a new language is one new map.
type msg string

const (
	msgUnavailable  msg = "unavailable"
	msgSessionError msg = "session.error"
	msgNav          msg = "nav"

	msgMainTitle     msg = "main.title"
	msgMainItem      msg = "main.item"
	msgInvalidChoice msg = "main.invalid"
	msgItemCheck     msg = "main.check"

	msgAskCHFID    msg = "membership.ask"
	msgCHFIDFormat msg = "membership.format"
	msgNoInsuree   msg = "membership.unknown"
	msgNumber      msg = "membership.number"
	msgMaskedWord  msg = "membership.masked"
	msgNoPolicy    msg = "membership.nopolicy"
	msgMore        msg = "membership.more"

	msgCovered          msg = "policy.covered"
	msgCoveredUntil     msg = "policy.covered.until"
	msgNotYetActive     msg = "policy.idle"
	msgNotYetActiveFrom msg = "policy.idle.from"
	msgExpired          msg = "policy.expired"
	msgExpiredOn        msg = "policy.expired.on"
	msgSuspended        msg = "policy.suspended"
	msgNotCovered       msg = "policy.unknown"

	msgDate msg = "date"
	msgJan  msg = "month.1"
	msgFeb  msg = "month.2"
	msgMar  msg = "month.3"
	msgApr  msg = "month.4"
	msgMay  msg = "month.5"
	msgJun  msg = "month.6"
	msgJul  msg = "month.7"
	msgAug  msg = "month.8"
	msgSep  msg = "month.9"
	msgOct  msg = "month.10"
	msgNov  msg = "month.11"
	msgDec  msg = "month.12"
)

var monthMsgs = [12]msg{msgJan, msgFeb, msgMar, msgApr, msgMay, msgJun, msgJul, msgAug, msgSep, msgOct, msgNov, msgDec}

// english is the reference catalog: every msg has an entry here, in plain
// ASCII so an English screen is always GSM-7 (protocols.md §5.2).
// Placeholders are fmt verbs; a translation may reorder them with %[n]s.
var english = map[msg]string{
	msgUnavailable:  "Service temporarily unavailable, please try again.",
	msgSessionError: "Session error, please dial again.",
	msgNav:          "0 Back 00 Menu",

	msgMainTitle:     "openIMIS insurance",
	msgMainItem:      "%d. %s",
	msgInvalidChoice: "Invalid choice.",
	msgItemCheck:     "Check membership",

	msgAskCHFID:    "Enter the insurance number:",
	msgCHFIDFormat: "An insurance number has 1 to %d letters or digits.",
	msgNoInsuree:   "No insuree has number %s.",
	msgNumber:      "No. %s",
	msgMaskedWord:  "%s***", // one word of a name shown to a stranger: its first letter
	msgNoPolicy:    "No policy",
	msgMore:        "+%d more",

	msgCovered:          "%s: covered",
	msgCoveredUntil:     "%s: covered until %s",
	msgNotYetActive:     "%s: not yet active",
	msgNotYetActiveFrom: "%s: not yet active, from %s",
	msgExpired:          "%s: expired",
	msgExpiredOn:        "%s: expired on %s",
	msgSuspended:        "%s: suspended",
	msgNotCovered:       "%s: not covered",

	msgDate: "%d %s %d", // day, month name, year: 31 Dec 2026
	msgJan:  "Jan",
	msgFeb:  "Feb",
	msgMar:  "Mar",
	msgApr:  "Apr",
	msgMay:  "May",
	msgJun:  "Jun",
	msgJul:  "Jul",
	msgAug:  "Aug",
	msgSep:  "Sep",
	msgOct:  "Oct",
	msgNov:  "Nov",
	msgDec:  "Dec",
}

// catalogs maps a language code to its messages. Read-only after package
// initialisation.
var catalogs = map[string]map[msg]string{
	"en": english,
}

// hasCatalog reports whether lang has its own catalog.
func hasCatalog(lang string) bool {
	_, ok := catalogs[lang]
	return ok
}

// t renders message id in lang, falling back to English for a language or a
// message that has no translation yet.
func t(lang string, id msg, args ...any) string {
	s, ok := catalogs[lang][id]
	if !ok {
		if s, ok = english[id]; !ok {
			return string(id) // a missing message shows its ID, never panics; catalog_test catches it
		}
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}
