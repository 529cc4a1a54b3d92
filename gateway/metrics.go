package gateway

import (
	"cmp"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
)

// Metrics are every series the gateway serves on /metrics (README.md,
// "Monitoring"). Labels are bounded: providers, menu nodes, commands,
// states and reasons are the code's own names, never a phone number, a
// session id or text from a caller. The methods of a nil *Metrics count
// nothing, so that a part built without metrics (tests) needs no check.
type Metrics struct {
	reg prometheus.Registerer

	hopDuration *prometheus.HistogramVec
	hops        *prometheus.CounterVec
	started     *prometheus.CounterVec
	ended       *prometheus.CounterVec
	conflicts   prometheus.Counter
	// byProvider holds each provider's hop series resolved once: a hop
	// pays a map look-up, not the hashing of its label values.
	byProvider sync.Map // provider → *providerSeries

	smsSuppressed   *prometheus.CounterVec
	smsInbound      *prometheus.CounterVec
	smsOutbound     *prometheus.CounterVec
	smsSendRetries  *prometheus.CounterVec
	deliveryReports *prometheus.CounterVec
	renewals        *prometheus.CounterVec
	renewalRefusals *prometheus.CounterVec
	remindersQueued *prometheus.CounterVec
	remindersSkip   *prometheus.CounterVec

	redisDuration *prometheus.HistogramVec
	redisErrors   *prometheus.CounterVec
	pgDuration    *prometheus.HistogramVec
	pgErrors      *prometheus.CounterVec
}

// hopBuckets reach past the aggregators' deadline (about 10 s,
// docs/providers.md, "Timeouts"), so that the alert on the p99 nearing it
// has buckets to read.
var hopBuckets = []float64{.001, .002, .005, .01, .015, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// roundTripBuckets are for one Redis command or one SQL statement.
var roundTripBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// Session ends, the how label of imisgw_ussd_sessions_ended_total.
const (
	endCompleted   = "completed"   // the menu sent its final screen
	endAggregator  = "aggregator"  // the aggregator's end notice: hang-up, timeout
	endRefused     = "refused"     // the session-error screen
	endUnavailable = "unavailable" // the "temporarily unavailable" screen
)

// NewMetrics makes the gateway's metrics, with Go's runtime and process
// collectors, and registers them with reg, the registry served on /metrics
// (nil: registered nowhere, as in tests that read none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		reg: reg,
		hopDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imisgw_ussd_hop_duration_seconds",
			Help:    "Time to answer a USSD hop, by provider and outcome (answered, replayed, refused, lost: a hop of a session Redis no longer holds, ended, unavailable).",
			Buckets: hopBuckets,
		}, []string{"provider", "outcome"}),
		hops: counter("imisgw_ussd_hops_total",
			"USSD hops by provider, the menu node the hop left the session on (\"\" when it got no further) and outcome.",
			"provider", "node", "outcome"),
		started: counter("imisgw_ussd_sessions_started_total",
			"USSD sessions whose first hop was answered with a menu, by provider.", "provider"),
		ended: counter("imisgw_ussd_sessions_ended_total",
			"USSD sessions ended, by provider and how: completed (the menu's final screen), aggregator (its end notice: "+
				"hang-up or timeout, which some wires also send after a completed session), refused (the session-error screen), "+
				"unavailable (the \"temporarily unavailable\" screen). Sessions left to expire are not seen.",
			"provider", "how"),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imisgw_ussd_session_conflicts_total",
			Help: "Hops started from this instance's memory of their session that found it changed in Redis " +
				"(another instance or a racing retry answered first) and were answered again the locked way.",
		}),
		smsSuppressed: counter("imisgw_sms_suppressed_total",
			"Inbound SMS left unanswered, by reason: not_mobile (the sender is no mobile number: a sender id, "+
				"a short code), duplicate (the same text from the same phone was answered within SMS_REPEAT_WINDOW), "+
				"budget (the phone used its replies of the hour).",
			"reason"),
		smsInbound: counter("imisgw_sms_inbound_total",
			"Inbound SMS handled, by command (check, claims, lang, renew, help; unrecognised; none when suppressed) "+
				"and outcome as stored on the message (replied; replied:unavailable, the reply asks to try again; "+
				"suppressed:<reason> as in imisgw_sms_suppressed_total).",
			"command", "outcome"),
		smsOutbound: counter("imisgw_sms_outbound_total",
			"Outbound SMS by provider and the outbox worker's final state: sent (accepted by the provider), "+
				"failed, unknown (may have been sent; never resent).",
			"provider", "state"),
		smsSendRetries: counter("imisgw_sms_send_retries_total",
			"Sends of an outbound SMS put off to later, by provider and reason (retry: a retryable error; throttled: HTTP 429).",
			"provider", "reason"),
		deliveryReports: counter("imisgw_sms_delivery_reports_total",
			"Delivery reports stored, by provider and state (sent, delivered, failed; unknown for a status the gateway does not know).",
			"provider", "state"),
		renewals: counter("imisgw_renewals_total",
			"Renewals asked for, by channel (ussd, sms) and outcome (renewed, repeated: written earlier, refused, failed).",
			"channel", "outcome"),
		renewalRefusals: counter("imisgw_renewal_refusals_total",
			"Renewals refused, by channel and reason (openimis.RefusalReason: unknown_number, receipt_used, ...).",
			"channel", "reason"),
		remindersQueued: counter("imisgw_reminders_queued_total",
			"Renewal reminders queued in the outbox, by kind: family (to a family head, once per policy and expiry date), "+
				"officer (an officer's daily list of families due).",
			"kind"),
		remindersSkip: counter("imisgw_reminders_skipped_total",
			"Renewal reminders not queued, by reason: no_phone (the head has no mobile number), no_consent (\"tblFamilySMS\" "+
				"says no), no_consent_row (no row, and REMINDER_WITHOUT_CONSENT_ROW=skip), officer_no_sms (the officer's "+
				"\"PhoneCommunication\" is off), or why the renewal would be refused (renewal_exists, product_not_renewable, ...).",
			"reason"),
		redisDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imisgw_redis_command_duration_seconds",
			Help:    "Round trip of a Redis command (or pipeline), by command name, failures included.",
			Buckets: roundTripBuckets,
		}, []string{"command"}),
		redisErrors: counter("imisgw_redis_errors_total",
			"Redis commands that failed (not a missing key, not a lost optimistic transaction), by command name; dial for connections.",
			"command"),
		pgDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imisgw_postgres_statement_duration_seconds",
			Help:    "Round trip of a PostgreSQL statement, by kind (select, insert, update, delete, with, begin, commit, rollback, batch, other).",
			Buckets: roundTripBuckets,
		}, []string{"statement"}),
		pgErrors: counter("imisgw_postgres_errors_total",
			"PostgreSQL statements that failed, by kind as in imisgw_postgres_statement_duration_seconds; connect for connections.",
			"statement"),
	}
	for _, r := range suppressionReasons {
		m.smsSuppressed.WithLabelValues(string(r)) // shown at 0 before the first one
	}
	for _, kind := range []string{"select", "insert", "update", "delete", "connect"} {
		m.pgErrors.WithLabelValues(kind)
	}
	m.redisErrors.WithLabelValues("dial")
	for _, kind := range []string{reminderFamily, reminderOfficer} {
		m.remindersQueued.WithLabelValues(kind)
	}
	for _, reason := range []string{skipNoPhone, skipNoConsent, skipNoConsentRow} {
		m.remindersSkip.WithLabelValues(reason)
	}
	for _, channel := range []string{"ussd", "sms"} {
		for _, outcome := range []string{"renewed", "repeated", "refused", "failed"} {
			m.renewals.WithLabelValues(channel, outcome)
		}
	}
	if reg != nil {
		reg.MustRegister(m.hopDuration, m.hops, m.started, m.ended, m.conflicts,
			m.smsSuppressed, m.smsInbound, m.smsOutbound, m.smsSendRetries, m.deliveryReports,
			m.renewals, m.renewalRefusals, m.remindersQueued, m.remindersSkip, m.redisDuration, m.redisErrors, m.pgDuration, m.pgErrors,
			collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// providerSeries are one provider's hop series.
type providerSeries struct {
	duration map[string]prometheus.Observer // by outcome
	ended    map[string]prometheus.Counter  // by how
	started  prometheus.Counter
	hops     sync.Map // hopKey → prometheus.Counter
}

type hopKey struct{ node, outcome string }

var hopOutcomes = []string{outcomeAnswered, outcomeReplayed, outcomeRefused, outcomeLost, outcomeEnded, outcomeUnavailable}

// series is provider's hop series, made on its first hop or when the
// server is built for it (shown at 0 from the start).
func (m *Metrics) series(provider string) *providerSeries {
	if s, ok := m.byProvider.Load(provider); ok {
		return s.(*providerSeries)
	}
	s := &providerSeries{
		duration: map[string]prometheus.Observer{},
		ended:    map[string]prometheus.Counter{},
		started:  m.started.WithLabelValues(provider),
	}
	for _, o := range hopOutcomes {
		s.duration[o] = m.hopDuration.WithLabelValues(provider, o)
	}
	for _, how := range []string{endCompleted, endAggregator, endRefused, endUnavailable} {
		s.ended[how] = m.ended.WithLabelValues(provider, how)
	}
	actual, _ := m.byProvider.LoadOrStore(provider, s)
	return actual.(*providerSeries)
}

// observeHop counts a hop and the session it began or ended.
func (m *Metrics) observeHop(provider string, res result, took time.Duration) {
	s := m.series(provider)
	s.duration[res.outcome].Observe(took.Seconds())
	key := hopKey{res.node, res.outcome}
	c, ok := s.hops.Load(key)
	if !ok {
		c, _ = s.hops.LoadOrStore(key, m.hops.WithLabelValues(provider, res.node, res.outcome))
	}
	c.(prometheus.Counter).Inc()
	if res.began && res.outcome == outcomeAnswered {
		s.started.Inc()
	}
	switch {
	case res.outcome == outcomeAnswered && res.end:
		s.ended[endCompleted].Inc()
	case res.outcome == outcomeEnded:
		s.ended[endAggregator].Inc()
	case res.outcome == outcomeRefused || res.outcome == outcomeLost:
		s.ended[endRefused].Inc()
	case res.outcome == outcomeUnavailable:
		s.ended[endUnavailable].Inc()
	}
}

// inboundSMS counts an inbound SMS handled; command is the menus' keyword,
// "" for a text they did not recognise.
func (m *Metrics) inboundSMS(command, outcome string) {
	if m == nil {
		return
	}
	m.smsInbound.WithLabelValues(cmdLabel(command), outcome).Inc()
}

func cmdLabel(command string) string {
	if command == "" {
		return "unrecognised"
	}
	return strings.ToLower(command)
}

func (m *Metrics) smsSuppressedFor(why suppression) {
	if m == nil {
		return
	}
	m.smsSuppressed.WithLabelValues(string(why)).Inc()
	m.smsInbound.WithLabelValues("none", "suppressed:"+string(why)).Inc()
}

// outboundSMS counts an outbound SMS reaching a final state.
func (m *Metrics) outboundSMS(provider, state string) {
	if m == nil {
		return
	}
	m.smsOutbound.WithLabelValues(provider, state).Inc()
}

// showSender shows a provider's outbound series at 0 before its first SMS,
// so that ratios and alerts over them have a value from the start.
func (m *Metrics) showSender(provider string) {
	if m == nil {
		return
	}
	for _, state := range []string{"sent", "failed", "unknown"} {
		m.smsOutbound.WithLabelValues(provider, state)
	}
	for _, reason := range []string{"retry", "throttled"} {
		m.smsSendRetries.WithLabelValues(provider, reason)
	}
}

// sendPutOff counts a send put off to later.
func (m *Metrics) sendPutOff(provider, reason string) {
	if m == nil {
		return
	}
	m.smsSendRetries.WithLabelValues(provider, reason).Inc()
}

// renewal counts a renewal asked for on channel and what came of it.
func (m *Metrics) renewal(channel string, res openimis.RenewalResult, err error) {
	if m == nil {
		return
	}
	switch channel = strings.ToUpper(channel); channel {
	case openimis.ChannelUSSD, openimis.ChannelSMS:
		channel = strings.ToLower(channel)
	default:
		channel = "other"
	}
	var refusal *openimis.RefusalError
	outcome := "renewed"
	switch {
	case errors.As(err, &refusal):
		outcome = "refused"
		m.renewalRefusals.WithLabelValues(channel, string(refusal.Reason)).Inc()
	case err != nil:
		outcome = "failed"
	case res.Repeated:
		outcome = "repeated"
	}
	m.renewals.WithLabelValues(channel, outcome).Inc()
}

// reminderQueued counts a reminder of kind (reminderFamily, reminderOfficer) queued.
func (m *Metrics) reminderQueued(kind string) {
	if m == nil {
		return
	}
	m.remindersQueued.WithLabelValues(kind).Inc()
}

// reminderSkipped counts a reminder not queued, and why.
func (m *Metrics) reminderSkipped(reason string) {
	if m == nil {
		return
	}
	m.remindersSkip.WithLabelValues(reason).Inc()
}

// deliveriesCounted counts the delivery reports its store accepts.
type deliveriesCounted struct {
	DeliveryStore
	m *Metrics
}

func (d deliveriesCounted) ApplyDeliveryReport(ctx context.Context, provider, providerMessageID, status, rawStatus, reason string) (bool, error) {
	matched, err := d.DeliveryStore.ApplyDeliveryReport(ctx, provider, providerMessageID, status, rawStatus, reason)
	if err == nil {
		d.m.deliveryReports.WithLabelValues(provider, cmp.Or(status, "unknown")).Inc()
	}
	return matched, err
}

// RedisHook times every Redis command and counts its failures; add it to
// the sessions' client (redis.UniversalClient.AddHook).
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m} }

type redisHook struct{ m *Metrics }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
		conn, err = next(ctx, network, addr)
		if err != nil {
			h.m.redisErrors.WithLabelValues("dial").Inc()
		}
		return conn, err
	}
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		h.m.redisRoundTrip(cmd.Name(), start, err)
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		h.m.redisRoundTrip("pipeline", start, err)
		return err
	}
}

func (m *Metrics) redisRoundTrip(command string, start time.Time, err error) {
	m.redisDuration.WithLabelValues(command).Observe(time.Since(start).Seconds())
	if redisFailed(err) {
		m.redisErrors.WithLabelValues(command).Inc()
	}
}

// redisFailed tells a failure from the answers the gateway expects: a key
// that is not there, a script to load first (go-redis loads it and runs it
// again), a watched key that changed.
func redisFailed(err error) bool {
	return err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, redis.TxFailedErr) &&
		!strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// PostgresTracer times every SQL statement and counts its failures; it is
// policystore.Options.Tracer.
func (m *Metrics) PostgresTracer() pgx.QueryTracer { return pgTracer{m} }

type pgTracer struct{ m *Metrics }

type pgStartKey struct{}

type pgStart struct {
	at   time.Time
	kind string
}

func (t pgTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, pgStartKey{}, pgStart{time.Now(), statementKind(data.SQL)})
}

func (t pgTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	t.end(ctx, data.Err)
}

func (t pgTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return context.WithValue(ctx, pgStartKey{}, pgStart{time.Now(), "batch"})
}

// TraceBatchQuery is part of pgx.BatchTracer; the batch is timed as a whole.
func (t pgTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (t pgTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	t.end(ctx, data.Err)
}

func (t pgTracer) TraceConnectStart(ctx context.Context, _ pgx.TraceConnectStartData) context.Context {
	return ctx
}

func (t pgTracer) TraceConnectEnd(_ context.Context, data pgx.TraceConnectEndData) {
	if data.Err != nil {
		t.m.pgErrors.WithLabelValues("connect").Inc()
	}
}

func (t pgTracer) end(ctx context.Context, err error) {
	s, ok := ctx.Value(pgStartKey{}).(pgStart)
	if !ok {
		return
	}
	t.m.pgDuration.WithLabelValues(s.kind).Observe(time.Since(s.at).Seconds())
	if err != nil {
		t.m.pgErrors.WithLabelValues(s.kind).Inc()
	}
}

// statementKinds are the first keywords a label may name; any other is "other".
var statementKinds = map[string]string{"select": "select", "insert": "insert", "update": "update", "delete": "delete",
	"with": "with", "begin": "begin", "commit": "commit", "rollback": "rollback"}

// statementKind is the first keyword of sql, past blanks and "--" comments.
func statementKind(sql string) string {
	for {
		sql = strings.TrimLeft(sql, " \t\r\n(")
		if !strings.HasPrefix(sql, "--") {
			break
		}
		_, sql, _ = strings.Cut(sql, "\n")
	}
	end := strings.IndexAny(sql, " \t\r\n;(")
	if end < 0 {
		end = len(sql)
	}
	if kind, ok := statementKinds[strings.ToLower(sql[:end])]; ok {
		return kind
	}
	return "other"
}

// OutboxStatsSource reads the outbox's queue (*policystore.Store).
type OutboxStatsSource interface {
	OutboxStats(ctx context.Context) ([]policystore.OutboxStats, error)
}

// outboxScrapeTimeout bounds the outbox query of a scrape: a slow database
// leaves the outbox series out of one scrape, it does not hold the scrape.
const outboxScrapeTimeout = 2 * time.Second

// WatchOutbox serves the outbox's depth and the age of its oldest queued
// and most overdue messages, read from PostgreSQL when /metrics is scraped.
// A scrape every 15 to 60 s costs one small query on the partial index of
// queued messages; a gauge the worker kept would cost one a poll (every
// second) on each instance, and would freeze, showing nothing wrong, when the
// worker itself is stuck.
func (m *Metrics) WatchOutbox(src OutboxStatsSource) {
	if m.reg != nil {
		m.reg.MustRegister(outboxCollector{src})
	}
}

var (
	outboxQueuedDesc = prometheus.NewDesc("imisgw_outbox_queued",
		"SMS queued in the outbox (due or waiting for a retry), by provider.", []string{"provider"}, nil)
	outboxOldestDesc = prometheus.NewDesc("imisgw_outbox_oldest_queued_age_seconds",
		"Age of the oldest queued SMS, by provider (retries included: up to about two hours is normal).", []string{"provider"}, nil)
	outboxOverdueDesc = prometheus.NewDesc("imisgw_outbox_oldest_due_seconds",
		"How long the most overdue SMS has been due without being taken, by provider: grows when no worker sends.", []string{"provider"}, nil)
	outboxUpDesc = prometheus.NewDesc("imisgw_outbox_stats_up",
		"1 when this scrape could read the outbox's queue, 0 when PostgreSQL did not answer in time.", nil, nil)
)

type outboxCollector struct{ src OutboxStatsSource }

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxQueuedDesc
	ch <- outboxOldestDesc
	ch <- outboxOverdueDesc
	ch <- outboxUpDesc
}

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), outboxScrapeTimeout)
	defer cancel()
	stats, err := c.src.OutboxStats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 1)
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(outboxQueuedDesc, prometheus.GaugeValue, float64(s.Queued), s.Provider)
		ch <- prometheus.MustNewConstMetric(outboxOldestDesc, prometheus.GaugeValue, s.OldestQueued.Seconds(), s.Provider)
		ch <- prometheus.MustNewConstMetric(outboxOverdueDesc, prometheus.GaugeValue, s.OldestDue.Seconds(), s.Provider)
	}
}

// dependencyPingTimeout bounds each dependency's ping in a scrape.
const dependencyPingTimeout = 2 * time.Second

var dependencyUpDesc = prometheus.NewDesc("imisgw_dependency_up",
	"1 when the dependency (postgres, redis) answered a ping at scrape time, 0 when it did not within 2 s.",
	[]string{"dependency"}, nil)

// watchDependencies serves imisgw_dependency_up for the checks /readyz runs.
func (m *Metrics) watchDependencies(checks []Checker) {
	if m.reg != nil && len(checks) > 0 {
		m.reg.MustRegister(dependencyCollector(checks))
	}
}

type dependencyCollector []Checker

func (c dependencyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- dependencyUpDesc }

func (c dependencyCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, check := range c {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), dependencyPingTimeout)
			defer cancel()
			up := 1.0
			if check.Ping(ctx) != nil {
				up = 0
			}
			ch <- prometheus.MustNewConstMetric(dependencyUpDesc, prometheus.GaugeValue, up, check.Name)
		})
	}
	wg.Wait()
}
