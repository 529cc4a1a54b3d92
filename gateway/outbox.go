package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers"
)

// The outbox worker sends what the business writes queued in
// imis_gateway.outbox (docs/design.md, "Packages and their one job"), through each provider's Sender.
//
// It never sends a message twice. A message is taken ('sending') before
// its request leaves, and its outcome recorded after. When the provider may
// have sent it but no answer says so (a timeout after the request was
// written, or a crash between sending and recording) it becomes 'unknown'
// and is not resent: a user who gets no confirmation can ask again, one who
// is charged twice for a renewal confirmation, or sees it twice, cannot undo
// it. Everything else is visible in the table: retries with their last
// reason, final failures with the provider's.

// Sender sends one SMS through one provider: the provider's SMS client
// (providers.Sender). Errors should be *providers.SendError; any other error
// counts as retryable (certainly not sent).
type Sender = providers.Sender

// OutboxStore is what the worker needs of imis_gateway.outbox
// (*policystore.Store).
type OutboxStore interface {
	TakeDue(ctx context.Context, providers []string, limit int) ([]policystore.OutboxMessage, error)
	MarkSent(ctx context.Context, id int64, providerMessageID, providerStatus string, parts int) error
	MarkRetry(ctx context.Context, id int64, nextAttempt time.Time, reason string) error
	PutBack(ctx context.Context, id int64, nextAttempt time.Time, reason string) error
	MarkFailed(ctx context.Context, id int64, providerStatus, reason string) error
	MarkUnknown(ctx context.Context, id int64, reason string) error
	RecoverStuck(ctx context.Context, olderThan time.Duration) (int, error)
	OutboxQueued(ctx context.Context) (map[string]int, error)
}

// OutboxOptions tunes the worker; zero values take the defaults.
type OutboxOptions struct {
	PollInterval time.Duration // how often to look for due messages; default 1s
	// Concurrency is how many messages are taken and sent at once; default 4.
	Concurrency int
	// SendTimeout bounds one send; default 15s (the AT client stops at 10s).
	SendTimeout time.Duration
	// Retries: the n-th retry waits BackoffBase×2^(n-1), capped at
	// BackoffCap, with jitter; after MaxAttempts attempts the message
	// fails with its last reason. Defaults 5s, 15 min, 10.
	BackoffBase time.Duration
	BackoffCap  time.Duration
	MaxAttempts int
	// A throttled provider (429) pauses ThrottlePause×2^(n-1) for the n-th
	// throttle in a row, capped at ThrottleCap, or the provider's
	// Retry-After when longer. Defaults 30s, 10 min.
	ThrottlePause time.Duration
	ThrottleCap   time.Duration
	// StuckAfter: messages 'sending' for longer were abandoned by a crashed
	// instance (see policystore.RecoverStuck); default 2 min, which must
	// exceed SendTimeout.
	StuckAfter time.Duration
	// CheckInterval is how often stuck messages are recovered and messages
	// waiting for an unconfigured provider reported; default 1 min.
	CheckInterval time.Duration
	Now           func() time.Time // default time.Now
	// Metrics count the messages sent, failed and put off; nil: counted nowhere.
	Metrics *Metrics
	// Trace, when set, records every attempt in the conversation trace.
	Trace *Tracer
}

func (o *OutboxOptions) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.SendTimeout, 15*time.Second)
	def(&o.BackoffBase, 5*time.Second)
	def(&o.BackoffCap, 15*time.Minute)
	def(&o.ThrottlePause, 30*time.Second)
	def(&o.ThrottleCap, 10*time.Minute)
	def(&o.StuckAfter, 2*time.Minute)
	def(&o.CheckInterval, time.Minute)
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// OutboxWorker sends queued SMS. Several gateways may each run one on the
// same database: each skips the rows the others took.
type OutboxWorker struct {
	store   OutboxStore
	senders map[string]Sender
	opts    OutboxOptions
	log     *slog.Logger
	wake    doorbell
	errs    quietErrors

	mu       sync.Mutex
	throttle map[string]*throttleState
}

type throttleState struct {
	until   time.Time
	strikes int
}

// NewOutboxWorker builds a worker that sends each provider's messages
// through senders[provider]. A provider with no sender, or whose sender
// reports Configured() false, is not sent through: its messages stay queued
// and the worker says so every CheckInterval.
func NewOutboxWorker(store OutboxStore, senders map[string]Sender, opts OutboxOptions, log *slog.Logger) *OutboxWorker {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	active := make(map[string]Sender, len(senders))
	for name, s := range senders {
		if c, ok := s.(interface{ Configured() bool }); s == nil || ok && !c.Configured() {
			continue
		}
		active[name] = s
		opts.Metrics.showSender(name)
	}
	return &OutboxWorker{store: store, senders: active, opts: opts, log: log,
		wake: newDoorbell(), throttle: map[string]*throttleState{}}
}

// Notify wakes the worker now instead of at its next poll; the gateway calls
// it after enqueueing. It never blocks.
func (w *OutboxWorker) Notify() { w.wake.ring() }

// Run sends until ctx is cancelled, then returns nil once the sends in
// flight are recorded (each bounded by SendTimeout): a send is never cut
// off halfway, which would leave its outcome unknown.
func (w *OutboxWorker) Run(ctx context.Context) error {
	w.check(ctx)
	poll := time.NewTicker(w.opts.PollInterval)
	defer poll.Stop()
	check := time.NewTicker(w.opts.CheckInterval)
	defer check.Stop()
	for {
		w.drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-w.wake:
		case <-check.C:
			w.check(ctx)
		}
	}
}

// check recovers messages a crashed instance left 'sending', and reports
// messages waiting for a provider this gateway cannot send through.
func (w *OutboxWorker) check(ctx context.Context) {
	if n, err := w.store.RecoverStuck(ctx, w.opts.StuckAfter); err != nil {
		w.storeError("recover stuck SMS", err)
	} else if n > 0 {
		w.log.Warn("outbox: SMS interrupted while sending marked unknown, not resent", "count", n)
	}
	counts, err := w.store.OutboxQueued(ctx)
	if err != nil {
		w.storeError("count queued SMS", err)
		return
	}
	for provider, n := range counts {
		if _, ok := w.senders[provider]; !ok && n > 0 {
			w.log.Warn("outbox: SMS waiting for a provider that is not configured; they stay queued",
				"provider", provider, "queued", n, "hint", "set its credentials, e.g. AT_USERNAME and AT_API_KEY")
		}
	}
}

// drain takes and sends batches until nothing is due.
func (w *OutboxWorker) drain(ctx context.Context) {
	for ctx.Err() == nil {
		names := w.sendable()
		if len(names) == 0 {
			return
		}
		msgs, err := w.store.TakeDue(ctx, names, w.opts.Concurrency)
		if err != nil {
			if ctx.Err() == nil {
				w.storeError("take due SMS", err)
			}
			return
		}
		var wg sync.WaitGroup
		for _, m := range msgs {
			wg.Go(func() { w.send(ctx, m) })
		}
		wg.Wait()
		if len(msgs) < w.opts.Concurrency {
			return
		}
	}
}

// sendable lists the configured providers that are not paused.
func (w *OutboxWorker) sendable() []string {
	now := w.opts.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	var names []string
	for name := range w.senders {
		if t := w.throttle[name]; t == nil || !now.Before(t.until) {
			names = append(names, name)
		}
	}
	return names
}

// send sends one taken message and records the outcome. Recording uses a
// context that outlives ctx, so that a stop never leaves a sent message
// unrecorded.
func (w *OutboxWorker) send(ctx context.Context, m policystore.OutboxMessage) {
	record := context.WithoutCancel(ctx)
	log := w.log.With("id", m.ID, "provider", m.Provider, "purpose", m.Purpose, "to", maskPhone(m.Recipient), "attempt", m.Attempts)
	sender, ok := w.senders[m.Provider]
	if ctx.Err() != nil || !ok {
		// Taken but never tried: the worker is stopping.
		w.record(log, "put back", w.store.PutBack(record, m.ID, w.opts.Now(), ""))
		return
	}
	if until, paused := w.pausedUntil(m.Provider); paused {
		// Another message of this batch was throttled first.
		w.record(log, "put back", w.store.PutBack(record, m.ID, until, "provider throttled; waiting"))
		return
	}

	sendCtx, cancel := context.WithTimeout(record, w.opts.SendTimeout)
	res, err := sender.Send(sendCtx, m.Recipient, m.Body)
	cancel()
	w.opts.Trace.smsOut(m, res, err)
	if err == nil {
		w.clearThrottle(m.Provider)
		log.Info("sms sent", "message_id", res.MessageID, "parts", res.Parts)
		w.opts.Metrics.outboundSMS(m.Provider, "sent")
		w.record(log, "mark sent", w.store.MarkSent(record, m.ID, res.MessageID, res.Status, res.Parts))
		return
	}

	var se *providers.SendError
	if !errors.As(err, &se) {
		se = &providers.SendError{Retryable: true, Status: "Error", Reason: err.Error(), Err: err}
	}
	log = log.With("status", se.Status, "reason", se.Reason)
	switch {
	case se.MaybeSent:
		log.Warn("sms may have been sent; marked unknown, not resent")
		w.opts.Metrics.outboundSMS(m.Provider, "unknown")
		w.record(log, "mark unknown", w.store.MarkUnknown(record, m.ID, se.Reason+"; not resent, to never send it twice"))
	case se.Throttled:
		until := w.pause(m.Provider, se.RetryAfter)
		log.Warn("sms provider throttled; pausing it", "until", until)
		w.opts.Metrics.sendPutOff(m.Provider, "throttled")
		w.record(log, "put back", w.store.PutBack(record, m.ID, until, se.Status+": "+se.Reason))
	case se.Retryable && m.Attempts >= w.opts.MaxAttempts:
		log.Warn("sms failed; giving up after the last attempt")
		w.opts.Metrics.outboundSMS(m.Provider, "failed")
		w.record(log, "mark failed", w.store.MarkFailed(record, m.ID, se.Status,
			fmt.Sprintf("gave up after %d attempts; last: %s", m.Attempts, se.Reason)))
	case se.Retryable:
		next := w.opts.Now().Add(w.backoff(m.Attempts, se.RetryAfter))
		log.Warn("sms failed; will retry", "next_attempt", next)
		w.opts.Metrics.sendPutOff(m.Provider, "retry")
		w.record(log, "mark retry", w.store.MarkRetry(record, m.ID, next, se.Status+": "+se.Reason))
	case se.Config:
		log.Error("sms provider refuses the gateway's configuration; the message failed, and every other will until it is fixed")
		w.opts.Metrics.outboundSMS(m.Provider, "failed")
		w.record(log, "mark failed", w.store.MarkFailed(record, m.ID, se.Status, se.Reason))
	default:
		log.Warn("sms refused by the provider; final")
		w.opts.Metrics.outboundSMS(m.Provider, "failed")
		w.record(log, "mark failed", w.store.MarkFailed(record, m.ID, se.Status, se.Reason))
	}
}

// record logs a failure to record an outcome. The message then stays
// 'sending', and RecoverStuck later marks it unknown: visible, never resent.
func (w *OutboxWorker) record(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Error("outbox: could not record the outcome; the message will show as unknown", "step", what, "err", err)
	}
}

// backoff is the wait before retry n (n ≥ 1): exponential from BackoffBase,
// capped, with equal jitter so that messages failed together do not retry
// together; never shorter than the provider's hint.
func (w *OutboxWorker) backoff(n int, hint time.Duration) time.Duration {
	d := w.opts.BackoffBase
	for i := 1; i < n && d < w.opts.BackoffCap; i++ {
		d *= 2
	}
	d = min(d, w.opts.BackoffCap)
	d = d/2 + rand.N(d/2+1)
	return max(d, hint)
}

// pause stops sending through provider after a 429 and returns until when.
// Throttles that arrive while already paused (the rest of a batch) do not
// lengthen the pause.
func (w *OutboxWorker) pause(provider string, hint time.Duration) time.Time {
	now := w.opts.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.throttle[provider]
	if t == nil {
		t = &throttleState{}
		w.throttle[provider] = t
	}
	if now.Before(t.until) {
		return t.until
	}
	t.strikes++
	d := w.opts.ThrottlePause
	for i := 1; i < t.strikes && d < w.opts.ThrottleCap; i++ {
		d *= 2
	}
	d = max(min(d, w.opts.ThrottleCap), hint)
	t.until = now.Add(d)
	return t.until
}

func (w *OutboxWorker) pausedUntil(provider string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.throttle[provider]; t != nil && w.opts.Now().Before(t.until) {
		return t.until, true
	}
	return time.Time{}, false
}

func (w *OutboxWorker) clearThrottle(provider string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.throttle, provider)
}

// storeError logs database trouble at most once per CheckInterval: the
// worker retries every poll, and a database that is down should not flood
// the log.
func (w *OutboxWorker) storeError(what string, err error) {
	if w.errs.due(w.opts.Now(), w.opts.CheckInterval) {
		w.log.Error("outbox: "+what, "err", err)
	}
}
