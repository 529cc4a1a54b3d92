package openimis

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Officer is a current enrolment officer ("tblOfficer").
type Officer struct {
	ID                 int
	UUID               string
	Code               string
	Name               string // other names, then last name
	Phone              string // as stored, free text
	PhoneCommunication bool   // accepts SMS
	LocationID         int    // district; 0 when NULL
	WorksTo            time.Time
	// E164 is Phone normalised, e.g. "+255712345678".
	E164 string
	// Area is the locations the officer works in (see Covers), ascending.
	Area []int
}

// Covers reports whether a family living in location (its village,
// "tblFamilies"."LocationId") is in the officer's area: one of the officer's
// current villages ("tblOfficerVillages"), or, for an officer assigned no
// village, any location under the officer's own "LocationId" (a district,
// as openIMIS assigns it). An officer with neither has no area, and a family
// with no location (0) is in nobody's.
func (o Officer) Covers(location int) bool {
	_, ok := slices.BinarySearch(o.Area, location)
	return ok && location != 0
}

// Active reports whether the officer still works on today: "WorksTo" NULL,
// or its date (UTC, as openIMIS writes it) not before today's.
func (o Officer) Active(today time.Time) bool {
	return o.WorksTo.IsZero() || !DateOf(o.WorksTo.UTC()).Before(DateOf(today))
}

// NormalizePhone turns a free-text phone number into E.164 ("0712 345 678",
// "+255 712 345 678", "255712345678" and "0712-345-678" all give
// "+255712345678" with region "TZ"). Empty, unparsable and impossibly short
// or long numbers give false. openIMIS enforces no format on the phones it
// stores, so two phones are the same number when their E.164 forms are.
//
// Numbers already in E.164 are mostly answered without parsing
// (canonicalE164); other results are cached: parsing costs about 12 µs and
// two dozen allocations, and the same few numbers (heads, officers) come back
// on every hop that compares phones.
func NormalizePhone(raw, region string) (string, bool) {
	if strings.TrimSpace(raw) == "" {
		return "", false
	}
	if e164, ok, decided := canonicalE164(raw); decided {
		return e164, ok
	}
	key := phoneCacheKey{raw, region}
	if v, ok := phoneCache.Load(key); ok {
		e := v.(phoneCacheEntry)
		return e.e164, e.ok
	}
	var n phonenumbers.PhoneNumber
	var e phoneCacheEntry
	if err := phonenumbers.ParseToNumber(raw, region, &n); err == nil && phonenumbers.IsPossibleNumber(&n) {
		e = phoneCacheEntry{phonenumbers.Format(&n, phonenumbers.E164), true}
	}
	// Bounded by starting afresh: simpler than an LRU, and a full cache
	// refills from the numbers actually in use.
	if phoneCacheSize.Add(1) > maxPhoneCache {
		phoneCache.Clear()
		phoneCacheSize.Store(0)
	}
	phoneCache.Store(key, e)
	return e.e164, e.ok
}

const maxPhoneCache = 1 << 16

type phoneCacheKey struct{ raw, region string }

type phoneCacheEntry struct {
	e164 string
	ok   bool
}

var (
	phoneCache     sync.Map // phoneCacheKey → phoneCacheEntry
	phoneCacheSize atomic.Int64
)
