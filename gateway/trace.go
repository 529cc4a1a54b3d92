package gateway

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers"
)

// The conversation trace (README.md, "Support: tracing a caller"): what each
// caller saw and did, for the support page and `imis-gateway trace`, in
// imis_gateway.trace (migrations/sql/00009_trace.sql).
//
// A hop never waits for it. Record only puts a line in a bounded buffer, and
// drops it when the buffer is full; Tracer.Run writes the buffer in batches
// (COPY) on its own connection pool. A slow or failed PostgreSQL loses trace
// lines, counted in imisgw_trace_lines_dropped_total, never a hop.

// Kinds of trace lines, the column kind.
const (
	TraceHop      = "hop"
	TraceSMSIn    = "sms_in"
	TraceSMSOut   = "sms_out"
	TraceDelivery = "delivery"
	TraceRenewal  = "renewal"
	TraceRefusal  = "refusal"
)

// TraceLine is one row of imis_gateway.trace; which fields a kind fills is
// said in the migration.
type TraceLine struct {
	At        time.Time
	Kind      string
	Phone     string
	Provider  string
	SessionID string
	Node      string
	Asked     string
	Input     string
	Screen    string
	Ended     bool
	Outcome   string
	Took      time.Duration
	MessageID string
	Link      string
	CHFID     string
	Receipt   string
	Detail    string
}

// TraceOptions tune the Tracer; zero values take the defaults.
type TraceOptions struct {
	// Buffer is how many lines may wait for the writer; past it lines are
	// dropped. Default 20000: a few seconds of the busiest load measured.
	Buffer int
	// BatchSize lines are written at once, or what waited FlushInterval;
	// defaults 1000 and 1s.
	BatchSize     int
	FlushInterval time.Duration
	// WriteTimeout bounds one batch; a batch that fails or times out is
	// dropped, not retried. Default 5s.
	WriteTimeout time.Duration
	// RetentionDays: partitions wholly older are dropped (hourly); default 30.
	RetentionDays int
	// PhoneRegion reads national phone numbers, so that the trace holds
	// E.164 and a search finds a caller however the number was written.
	// Default "TZ".
	PhoneRegion string
	// Registerer receives the trace's counters; nil: registered nowhere.
	Registerer prometheus.Registerer
}

const (
	defaultTraceRetentionDays = 30
	// tracePartitionsAhead: days of partitions made beyond today, so that
	// writes never find their day missing when maintenance is late.
	tracePartitionsAhead = 2
	traceMaintainEvery   = time.Hour
)

func (o *TraceOptions) defaults() {
	if o.Buffer <= 0 {
		o.Buffer = 20000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.RetentionDays <= 0 {
		o.RetentionDays = defaultTraceRetentionDays
	}
	if o.PhoneRegion == "" {
		o.PhoneRegion = "TZ"
	}
}

// TraceDB is what the Tracer needs of PostgreSQL (*pgxpool.Pool).
type TraceDB interface {
	Acquire(ctx context.Context) (*pgxpool.Conn, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Tracer records the conversation trace. A nil *Tracer records nothing, so
// that the trace can be off without a condition at each call.
type Tracer struct {
	db      TraceDB
	opts    TraceOptions
	log     *slog.Logger
	lines   chan TraceLine
	enc     traceEncoder // the writer's, reused batch after batch
	written atomic.Uint64
	dropped atomic.Uint64
	errs    quietErrors
}

// NewTracer builds a Tracer writing to db; Run must run for anything to be
// written.
func NewTracer(db TraceDB, opts TraceOptions, log *slog.Logger) *Tracer {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tracer{db: db, opts: opts, log: log, lines: make(chan TraceLine, opts.Buffer)}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imisgw_trace_lines_written_total",
				Help: "Lines of the conversation trace written to PostgreSQL."},
				func() float64 { return float64(t.written.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "imisgw_trace_lines_dropped_total",
				Help: "Lines of the conversation trace lost: the buffer was full, or PostgreSQL failed or was slow to write them."},
				func() float64 { return float64(t.dropped.Load()) }),
		)
	}
	return t
}

// Record queues l for writing, or drops it when the buffer is full. It
// never blocks.
func (t *Tracer) Record(l TraceLine) {
	if t == nil {
		return
	}
	if l.At.IsZero() {
		l.At = time.Now()
	}
	select {
	case t.lines <- l:
	default:
		t.dropped.Add(1)
	}
}

// Counts returns the lines written and dropped so far.
func (t *Tracer) Counts() (written, dropped uint64) {
	return t.written.Load(), t.dropped.Load()
}

// Run writes the queued lines until ctx ends, then what is still queued,
// within WriteTimeout, and returns nil. It keeps the partitions too: today's
// and the next days' made, those past retention dropped, at start and
// hourly.
func (t *Tracer) Run(ctx context.Context) error {
	t.maintain(ctx)
	flush := time.NewTicker(t.opts.FlushInterval)
	defer flush.Stop()
	maintain := time.NewTicker(traceMaintainEvery)
	defer maintain.Stop()
	batch := make([]TraceLine, 0, t.opts.BatchSize)
	// A batch in hand when the stop comes is still written, within
	// WriteTimeout.
	writeCtx := context.WithoutCancel(ctx)
	for {
		select {
		case l := <-t.lines:
			batch = append(batch, l)
			if len(batch) < t.opts.BatchSize {
				continue
			}
		case <-flush.C:
		case <-maintain.C:
			t.maintain(ctx)
			continue
		case <-ctx.Done():
			t.drain(batch)
			return nil
		}
		batch = t.write(writeCtx, batch)
	}
}

// drain writes what is queued when the gateway stops, in batches, within
// one WriteTimeout in all.
func (t *Tracer) drain(batch []TraceLine) {
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.WriteTimeout)
	defer cancel()
	for {
		select {
		case l := <-t.lines:
			batch = append(batch, l)
			if len(batch) < t.opts.BatchSize {
				continue
			}
		default:
			t.write(ctx, batch)
			return
		}
		batch = t.write(ctx, batch)
	}
}

// write copies batch to the table and returns it emptied; a batch that
// fails is counted dropped.
func (t *Tracer) write(ctx context.Context, batch []TraceLine) []TraceLine {
	if len(batch) == 0 {
		return batch
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.WriteTimeout)
	defer cancel()
	for i := range batch {
		if e164, ok := openimis.NormalizePhone(batch[i].Phone, t.opts.PhoneRegion); ok {
			batch[i].Phone = e164
		}
	}
	n, err := t.copy(ctx, t.enc.encode(batch))
	if err != nil {
		t.dropped.Add(uint64(len(batch)))
		if t.errs.due(time.Now(), time.Minute) {
			t.log.Warn("trace: lines lost; hops go on", "lines", len(batch), "err", err)
		}
	} else {
		t.written.Add(uint64(n))
	}
	return batch[:0]
}

// copy sends one encoded batch on a connection of the trace's pool.
func (t *Tracer) copy(ctx context.Context, stream []byte) (int64, error) {
	conn, err := t.db.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(stream), traceCopySQL)
	return tag.RowsAffected(), err
}

// maintain makes the coming days' partitions and drops those past
// retention. A failure is logged: the partitions made ahead last two days.
func (t *Tracer) maintain(ctx context.Context) {
	if err := MaintainTrace(ctx, t.db, t.opts.RetentionDays); err != nil && ctx.Err() == nil {
		t.log.Error("trace: could not make or drop its daily partitions", "err", err)
	}
}

// MaintainTrace makes the trace's partitions of today and the next days,
// and drops those wholly older than retentionDays; 0 drops every one, which
// is what turning the trace off does to what it recorded.
func MaintainTrace(ctx context.Context, db TraceDB, retentionDays int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := db.Exec(ctx, `SELECT imis_gateway.trace_maintain($1, $2)`, tracePartitionsAhead, retentionDays)
	return err
}

// hop records one USSD hop: what came in, what the phone was shown.
func (t *Tracer) hop(start time.Time, hop providers.Hop, res result, shown providers.Reply, took time.Duration) {
	if t == nil {
		return
	}
	l := TraceLine{At: start, Kind: TraceHop, Phone: hop.Phone, Provider: hop.Provider, SessionID: hop.SessionID,
		Node: res.node, Asked: res.asked, Input: withheldInput(res.asked, res.node, res.input),
		Screen: shown.Text, Ended: shown.End || hop.End, Outcome: res.outcome, Took: took}
	// What support searches by, in the columns it searches.
	switch res.asked {
	case menus.NodeMembershipAsk, menus.NodeClaimsAsk, menus.NodeRenewAsk:
		l.CHFID = res.input
	case menus.NodeRenewReceipt:
		l.Receipt = res.input
	}
	t.Record(l)
}

// withheldInput is what the trace keeps of input, typed at the question of
// node asked, the session left on node next. A caller who believes a
// payment is being made types a mobile-money PIN where the gateway asks a
// choice or the amount; those inputs are withheld (their length kept):
//   - at a menu of choices (the main menu, the language menu, a list's
//     pages, a renewal's confirmation) an input longer than two characters,
//     which no choice is;
//   - at the amount of a renewal, an input the menu did not accept as the
//     amount (it did not move on to the confirmation).
//
// Insurance numbers and receipts are kept: they are what support searches
// by. A first hop's pre-dialled route is kept as dialled.
func withheldInput(asked, next, input string) string {
	withhold := false
	switch asked {
	case menus.NodeMain, menus.NodeLanguage, menus.NodeClaimsList, menus.NodeRenewConfirm:
		withhold = len(input) > 2
	case menus.NodeRenewAmount:
		withhold = next != menus.NodeRenewConfirm
	}
	if !withhold {
		return input
	}
	return "[withheld: " + strings.Repeat("•", len([]rune(input))) + "]"
}

// smsOut records an outbox message's attempt: sent, or the error.
func (t *Tracer) smsOut(m policystore.OutboxMessage, res providers.SendResult, err error) {
	if t == nil {
		return
	}
	l := TraceLine{Kind: TraceSMSOut, Phone: m.Recipient, Provider: m.Provider, Screen: m.Body, MessageID: res.MessageID,
		Link: outboxLink(m.DedupKey), Outcome: "sent", Detail: m.Purpose}
	if err != nil {
		l.Outcome = "error"
		var se *providers.SendError
		if errors.As(err, &se) {
			l.Detail += ": " + se.Status + ": " + se.Reason
		} else {
			l.Detail += ": " + err.Error()
		}
	}
	t.Record(l)
}

// outboxLink is the business event an outbox message belongs to, from its
// dedup key: "renewal:<uuid>:officer" and ":head" are the renewal's,
// "sms-reply:<provider>:<id>" answers that inbound SMS.
func outboxLink(dedupKey string) string {
	switch {
	case strings.HasPrefix(dedupKey, "renewal:"):
		return strings.TrimSuffix(strings.TrimSuffix(dedupKey, ":officer"), ":head")
	case strings.HasPrefix(dedupKey, "sms-reply:"):
		return "sms:" + strings.TrimPrefix(dedupKey, "sms-reply:")
	}
	return ""
}

// renewal records a renewal written or refused, tied to its USSD session
// or inbound SMS by the request key, and to its confirmation SMS by link.
func (t *Tracer) renewal(req openimis.RenewalRequest, res openimis.RenewalResult, err error) {
	if t == nil {
		return
	}
	l := TraceLine{Kind: TraceRenewal, Phone: req.OfficerPhone, CHFID: req.CHFID, Receipt: req.Receipt,
		Detail: req.Channel + ", paid " + req.Amount.String()}
	// The request key is "ussd:<provider>:<session>" or "sms:<provider>:<message id>".
	if channel, rest, ok := strings.Cut(req.RequestKey, ":"); ok {
		provider, id, _ := strings.Cut(rest, ":")
		l.Provider = provider
		if channel == "ussd" {
			l.SessionID = id
		} else {
			l.MessageID, l.Link = id, req.RequestKey
		}
	}
	var refusal *openimis.RefusalError
	switch {
	case errors.As(err, &refusal):
		l.Kind, l.Outcome = TraceRefusal, string(refusal.Reason)
	case err != nil:
		l.Kind, l.Outcome = TraceRefusal, "error"
	case res.Repeated:
		l.Outcome, l.Link = "repeated", "renewal:"+res.PolicyUUID
	default:
		l.Outcome, l.Link = "renewed", "renewal:"+res.PolicyUUID
		l.Detail += ", policy " + res.ProductCode + " to " + res.Expiry.Format(time.DateOnly)
	}
	t.Record(l)
}

// tracedSMSStore records what the SMS callbacks store: each inbound SMS
// (duplicates too: support sees the provider retrying) and each delivery
// report.
type tracedSMSStore struct {
	inner interface {
		InboundStore
		DeliveryStore
	}
	trace *Tracer
}

func (s tracedSMSStore) RecordInbound(ctx context.Context, m InboundMessage) (bool, error) {
	isNew, err := s.inner.RecordInbound(ctx, m)
	if err == nil {
		outcome := "received"
		if !isNew {
			outcome = "duplicate"
		}
		s.trace.Record(TraceLine{Kind: TraceSMSIn, Phone: m.From, Provider: m.Provider, Screen: m.Text,
			MessageID: m.MessageID, Link: "sms:" + m.Provider + ":" + m.MessageID, Outcome: outcome})
	}
	return isNew, err
}

func (s tracedSMSStore) ApplyDeliveryReport(ctx context.Context, provider, providerMessageID, status, rawStatus, reason string) (bool, error) {
	matched, err := s.inner.ApplyDeliveryReport(ctx, provider, providerMessageID, status, rawStatus, reason)
	if err == nil {
		detail := rawStatus
		if reason != "" {
			detail += ": " + reason
		}
		s.trace.Record(TraceLine{Kind: TraceDelivery, Provider: provider, MessageID: providerMessageID,
			Outcome: cmp.Or(status, "unknown"), Detail: detail})
	}
	return matched, err
}
