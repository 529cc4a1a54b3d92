package africastalking

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// Values of SessionEvent.Status documented by AT (docs/providers.md, "Africa's Talking end-of-session notification"). Other
// values are kept as sent.
const (
	StatusSuccess    = "Success"    // the session reached its expected end
	StatusIncomplete = "Incomplete" // closed while input was expected: abandoned or timed out
	StatusFailed     = "Failed"     // AT rejected our reply or got none; see ErrorMessage
)

// SessionEvent is AT's end-of-session notification. It only closes or cleans
// up state, never triggers business writes (docs/providers.md, "Replay keys").
type SessionEvent struct {
	SessionID       string
	ServiceCode     string
	Phone           string
	Network         string
	Status          string // StatusSuccess, StatusIncomplete, StatusFailed or as sent
	Input           string // the whole '*'-joined input, as in Hop.Text
	LastAppResponse string // our last body, prefix included ("CON Enter ...")
	ErrorMessage    string // set when Status is StatusFailed
	HopsCount       int
	DurationMillis  int64
	Date            time.Time // UTC; zero when absent or unparsable
	Cost            string    // as sent: "TZS 0.00", a bare number, ...
	HopsMetadata    string    // our at-ussd-hop-metadata labels joined with '|'
}

// eventDate is AT's "yyyy-MM-dd HH:mm:ss", in UTC.
const eventDate = "2006-01-02 15:04:05"

// ParseSessionEvent reads an end-of-session notification. Only sessionId is
// required. The event only informs, so it is read tolerantly: a number or
// date that does not parse becomes zero and an unknown status is kept. Form,
// UTF-8 and sessionId errors wrap providers.ErrMalformed as in ParseHop, and
// as there the input's invalid UTF-8 is replaced rather than refused;
// retryCount (sent by some AT setups, undocumented) is ignored.
func ParseSessionEvent(r *http.Request) (SessionEvent, error) {
	var ev SessionEvent
	var date, hops, duration string
	err := readForm(r, []formField{
		{key: "date", dst: &date},
		{key: "sessionId", dst: &ev.SessionID},
		{key: "serviceCode", dst: &ev.ServiceCode},
		{key: "networkCode", dst: &ev.Network},
		{key: "phoneNumber", dst: &ev.Phone},
		{key: "status", dst: &ev.Status},
		{key: "cost", dst: &ev.Cost},
		{key: "durationInMillis", dst: &duration},
		{key: "hopsCount", dst: &hops},
		{key: "hopsMetadata", dst: &ev.HopsMetadata},
		{key: "input", dst: &ev.Input, input: true},
		{key: "lastAppResponse", dst: &ev.LastAppResponse},
		{key: "errorMessage", dst: &ev.ErrorMessage},
	})
	if err != nil {
		return SessionEvent{}, err
	}
	if ev.SessionID, err = wire.Identifier("sessionId", ev.SessionID, providers.MaxSessionID, true); err != nil {
		return SessionEvent{}, err
	}
	ev.Phone = restorePlus(ev.Phone)
	ev.HopsCount = int(count(hops, 31))
	ev.DurationMillis = count(duration, 63)
	if t, err := time.Parse(eventDate, strings.TrimSpace(date)); err == nil {
		ev.Date = t
	}
	return ev, nil
}

// count parses a non-negative decimal of at most bits bits; anything else is 0.
func count(s string, bits int) int64 {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, bits)
	if err != nil {
		return 0
	}
	return int64(n)
}
