package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/openimis"
)

// Reading the conversation trace, for the support page and `imis-gateway
// trace`: a search finds lines, then everything tied to them (their USSD
// sessions, the SMS and renewals they link, the delivery reports of those
// SMS), as one timeline.

// TraceQuery says what to look for: exactly one of Phone, SessionID, CHFID
// or Receipt, in lines since Since.
type TraceQuery struct {
	Phone, SessionID, CHFID, Receipt string
	Since                            time.Time
	// Limit caps the lines first found (the newest); default 500.
	Limit int
	// PhoneRegion reads a national Phone; default "TZ".
	PhoneRegion string
}

// ErrTraceQuery is a query that names nothing or more than one thing.
var ErrTraceQuery = errors.New("search by one of phone, session, insurance number or receipt")

// TraceReader is what a search needs of PostgreSQL (*pgxpool.Pool).
type TraceReader interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Conversation is one USSD session's hops, in order.
type Conversation struct {
	Provider, SessionID, Phone string
	Hops                       []TraceLine
}

// TimelineItem is a USSD session, or one other line (an SMS with its
// delivery reports, a renewal, a refusal).
type TimelineItem struct {
	At         time.Time
	Session    *Conversation
	Line       *TraceLine
	Deliveries []TraceLine // of an outbound SMS
}

// Timeline is what a search found, oldest first.
type Timeline struct {
	Items []TimelineItem
	// Truncated: more lines matched than Limit; the oldest were left out.
	Truncated bool
}

const traceSelect = `SELECT tableoid::text || ctid::text, at, kind, coalesce(phone, ''), provider,
	coalesce(session_id, ''), coalesce(node, ''), coalesce(asked, ''), coalesce(input, ''), coalesce(screen, ''),
	coalesce(ended, false), coalesce(outcome, ''), coalesce(took_us, 0), coalesce(message_id, ''),
	coalesce(link, ''), coalesce(chfid, ''), coalesce(receipt, ''), coalesce(detail, '')
	FROM imis_gateway.trace `

// traceExpansionRounds bounds how far ties are followed: a session's
// renewal, its confirmation SMS, their delivery reports.
const traceExpansionRounds = 3

// SearchTrace finds what q asks and what is tied to it.
func SearchTrace(ctx context.Context, db TraceReader, q TraceQuery) (Timeline, error) {
	where, arg, err := q.predicate()
	if err != nil {
		return Timeline{}, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	found := map[string]TraceLine{}
	n, err := queryTrace(ctx, db, found, traceSelect+`WHERE at >= $1 AND `+where+` ORDER BY at DESC LIMIT $3`,
		q.Since, arg, limit+1)
	if err != nil {
		return Timeline{}, err
	}
	truncated := n > limit
	followed := map[string]bool{}
	for range traceExpansionRounds {
		var sessions, links, messages []string
		for _, l := range found {
			for _, tie := range []struct{ kind, value string }{
				{"s", l.Provider + "\x00" + l.SessionID}, {"l", l.Link}, {"m", l.Provider + "\x00" + l.MessageID},
			} {
				if strings.HasSuffix(tie.value, "\x00") || tie.value == "" || followed[tie.kind+tie.value] {
					continue
				}
				followed[tie.kind+tie.value] = true
				switch tie.kind {
				case "s":
					sessions = append(sessions, l.SessionID)
				case "l":
					links = append(links, l.Link)
				case "m":
					messages = append(messages, l.MessageID)
				}
			}
		}
		if len(sessions)+len(links)+len(messages) == 0 {
			break
		}
		if _, err := queryTrace(ctx, db, found, traceSelect+`WHERE at >= $1 AND (session_id = ANY($2)
			OR link = ANY($3) OR message_id = ANY($4)) LIMIT 5000`, q.Since, sessions, links, messages); err != nil {
			return Timeline{}, err
		}
	}
	return timeline(found, truncated), nil
}

// predicate is the SQL condition on $2 that finds what q asks.
func (q TraceQuery) predicate() (string, any, error) {
	var named []string
	for _, v := range []string{q.Phone, q.SessionID, q.CHFID, q.Receipt} {
		if v = strings.TrimSpace(v); v != "" {
			named = append(named, v)
		}
	}
	if len(named) != 1 {
		return "", nil, ErrTraceQuery
	}
	switch v := named[0]; {
	case strings.TrimSpace(q.Phone) != "":
		region := q.PhoneRegion
		if region == "" {
			region = "TZ"
		}
		if e164, ok := openimis.NormalizePhone(v, region); ok {
			v = e164
		}
		// A session's first hop is enough: its other hops follow it. The
		// condition is that of the index trace_phone_first (migration 00011).
		return `phone = $2 AND (kind <> 'hop' OR asked IS NULL)`, v, nil
	case strings.TrimSpace(q.SessionID) != "":
		return `session_id = $2`, v, nil
	case strings.TrimSpace(q.CHFID) != "":
		// A pre-dialled route carries the number among its inputs; an SMS
		// in its text.
		return `(chfid = $2 OR (kind = 'hop' AND asked IS NULL AND $2 = ANY(string_to_array(input, '*')))
			OR (kind = 'sms_in' AND $2 = ANY(regexp_split_to_array(upper(screen), '\s+'))))`, v, nil
	default:
		return `(receipt = $2 OR (kind = 'hop' AND asked IS NULL AND $2 = ANY(string_to_array(input, '*')))
			OR (kind = 'sms_in' AND upper($2) = ANY(regexp_split_to_array(upper(screen), '\s+'))))`, v, nil
	}
}

// queryTrace adds the lines sql finds to found, keyed by their row, and
// returns how many it found.
func queryTrace(ctx context.Context, db TraceReader, found map[string]TraceLine, sql string, args ...any) (int, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("trace: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			key  string
			l    TraceLine
			took int32
		)
		if err := rows.Scan(&key, &l.At, &l.Kind, &l.Phone, &l.Provider, &l.SessionID, &l.Node, &l.Asked, &l.Input,
			&l.Screen, &l.Ended, &l.Outcome, &took, &l.MessageID, &l.Link, &l.CHFID, &l.Receipt, &l.Detail); err != nil {
			return n, fmt.Errorf("trace: %w", err)
		}
		l.Took = time.Duration(took) * time.Microsecond
		found[key] = l
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("trace: %w", err)
	}
	return n, nil
}

// timeline groups lines: hops into their sessions, delivery reports under
// the SMS they report on.
func timeline(found map[string]TraceLine, truncated bool) Timeline {
	lines := make([]TraceLine, 0, len(found))
	for _, l := range found {
		lines = append(lines, l)
	}
	slices.SortFunc(lines, func(a, b TraceLine) int { return a.At.Compare(b.At) })
	sessions := map[string]*Conversation{}
	sent := map[string]*TimelineItem{}
	var items []*TimelineItem
	var deliveries []TraceLine
	for _, l := range lines {
		switch l.Kind {
		case TraceHop:
			key := l.Provider + "\x00" + l.SessionID
			if c := sessions[key]; c != nil {
				c.Hops = append(c.Hops, l)
				continue
			}
			c := &Conversation{Provider: l.Provider, SessionID: l.SessionID, Phone: l.Phone, Hops: []TraceLine{l}}
			sessions[key] = c
			items = append(items, &TimelineItem{At: l.At, Session: c})
		case TraceDelivery:
			deliveries = append(deliveries, l)
		default:
			item := &TimelineItem{At: l.At, Line: &l}
			items = append(items, item)
			if l.Kind == TraceSMSOut && l.MessageID != "" {
				sent[l.Provider+"\x00"+l.MessageID] = item
			}
		}
	}
	var orphans []*TimelineItem
	for _, d := range deliveries {
		if item := sent[d.Provider+"\x00"+d.MessageID]; item != nil {
			item.Deliveries = append(item.Deliveries, d)
			continue
		}
		orphans = append(orphans, &TimelineItem{At: d.At, Line: &d})
	}
	items = append(items, orphans...)
	slices.SortStableFunc(items, func(a, b *TimelineItem) int { return a.At.Compare(b.At) })
	t := Timeline{Truncated: truncated}
	for _, item := range items {
		t.Items = append(t.Items, *item)
	}
	return t
}
