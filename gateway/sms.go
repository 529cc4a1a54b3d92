package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers"
)

// Inbound SMS (docs/design.md, "Packages and their one job": SMS in → providers → menus → policystore →
// outbox). The webhook only records the message, deduplicated on the
// provider's id, and answers 200 at once; the InboundProcessor then hands
// each message to the SMS command handler in a transaction that also writes
// the reply to the outbox and marks the message processed.

// InboundMessage is an inbound SMS, provider-neutral.
type InboundMessage = providers.InboundSMS

// InboundHandler handles one inbound SMS inside tx: it runs the command and
// queues the reply with policystore.EnqueueSMS in tx, with a dedup key
// derived from the message, so that running it again after a crash queues
// nothing new. A returned error rolls tx back and marks the message failed.
// It must not commit or roll back tx.
type InboundHandler func(ctx context.Context, tx pgx.Tx, m InboundMessage) error

// InboundStore records inbound SMS (*policystore.Store).
type InboundStore interface {
	RecordInbound(ctx context.Context, m InboundMessage) (isNew bool, err error)
}

// InboundQueue is what the processor needs of imis_gateway.inbound_sms
// (*policystore.Store).
type InboundQueue interface {
	LeaseInbound(ctx context.Context, limit int, lease time.Duration) ([]policystore.InboundLease, error)
	BeginInbound(ctx context.Context) (pgx.Tx, error)
	FinishInbound(ctx context.Context, tx pgx.Tx, provider, id string, handleErr error) error
}

// InboundOptions tunes the processor; zero values take the defaults.
type InboundOptions struct {
	PollInterval time.Duration // default 1s
	BatchSize    int           // messages leased at once, handled in turn; default 10
	// HandleTimeout bounds one message's handler and commit; default 15s.
	HandleTimeout time.Duration
	// Lease hides a message from the other processors while one handles
	// it; a processor that dies leaves its messages to be handled again
	// when their lease ends.
	// Default 5 min, more than a batch takes (BatchSize × HandleTimeout).
	// Should a lease run out anyway, two processors may handle a message at
	// once; FinishInbound lets only one of them commit.
	Lease time.Duration
	// MaxAttempts: a message leased more often (its handler keeps timing
	// out, or crashing the process) is marked failed; default 5.
	MaxAttempts int
	// OnProcessed is called after each message's transaction commits; the
	// gateway passes the outbox worker's Notify so that replies leave at
	// once rather than at its next poll.
	OnProcessed func()
}

func (o *InboundOptions) defaults() {
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 10
	}
	if o.HandleTimeout <= 0 {
		o.HandleTimeout = 15 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
}

// InboundProcessor hands recorded inbound SMS to the handler, one
// transaction per message.
type InboundProcessor struct {
	store  InboundQueue
	handle InboundHandler
	opts   InboundOptions
	log    *slog.Logger
	wake   doorbell
	errs   quietErrors
}

// NewInboundProcessor builds a processor that calls handle for each message.
func NewInboundProcessor(store InboundQueue, handle InboundHandler, opts InboundOptions, log *slog.Logger) *InboundProcessor {
	opts.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &InboundProcessor{store: store, handle: handle, opts: opts, log: log, wake: newDoorbell()}
}

// Notify wakes the processor now instead of at its next poll; the inbound
// webhook calls it for each new message. It never blocks.
func (p *InboundProcessor) Notify() { p.wake.ring() }

// Run processes messages until ctx is cancelled, finishing the message in
// hand, and returns nil.
func (p *InboundProcessor) Run(ctx context.Context) error {
	poll := time.NewTicker(p.opts.PollInterval)
	defer poll.Stop()
	for {
		p.drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-p.wake:
		}
	}
}

func (p *InboundProcessor) drain(ctx context.Context) {
	for ctx.Err() == nil {
		leases, err := p.store.LeaseInbound(ctx, p.opts.BatchSize, p.opts.Lease)
		if err != nil {
			if ctx.Err() == nil && p.errs.due(time.Now(), time.Minute) {
				p.log.Error("inbound sms: lease", "err", err)
			}
			return
		}
		for _, c := range leases {
			// Messages leased after a stop began are left to their lease:
			// another instance, or the next start, handles them.
			if ctx.Err() != nil {
				return
			}
			p.process(ctx, c)
		}
		if len(leases) < p.opts.BatchSize {
			return
		}
	}
}

// process handles one message: handler and FinishInbound in one
// transaction; on a handler error, the transaction is rolled back and the
// message marked failed on its own.
func (p *InboundProcessor) process(ctx context.Context, c policystore.InboundLease) {
	log := p.log.With("provider", c.Provider, "id", c.MessageID, "from", maskPhone(c.From), "attempt", c.Attempts)
	// The message in hand is finished even when a stop begins.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.HandleTimeout)
	defer cancel()

	if c.Attempts > p.opts.MaxAttempts {
		err := fmt.Errorf("gave up after %d attempts: the handler never finished", c.Attempts-1)
		p.fail(hctx, log, c, err)
		return
	}

	start := time.Now()
	tx, err := p.store.BeginInbound(hctx)
	if err != nil {
		log.Warn("inbound sms: begin; will retry when the lease ends", "err", err)
		return
	}
	err = p.safeHandle(hctx, tx, c.InboundSMS)
	if err == nil {
		err = p.store.FinishInbound(hctx, tx, c.Provider, c.MessageID, nil)
		if err == nil {
			err = tx.Commit(hctx)
		}
		if err == nil {
			log.Info("inbound sms processed", "took", time.Since(start))
			if p.opts.OnProcessed != nil {
				p.opts.OnProcessed()
			}
			return
		}
		rollback(hctx, tx)
		if errors.Is(err, policystore.ErrInboundNotPending) {
			log.Info("inbound sms already processed elsewhere; this run rolled back")
			return
		}
		log.Warn("inbound sms: commit failed; will retry when the lease ends", "err", err)
		return
	}
	rollback(hctx, tx)
	if hctx.Err() != nil {
		// A timeout is the database's or the network's trouble more often
		// than the message's: leave it for another attempt (MaxAttempts
		// bounds them).
		log.Warn("inbound sms: handler timed out; will retry when the lease ends", "err", err)
		return
	}
	p.fail(context.WithoutCancel(ctx), log, c, err)
}

// rollback ends tx even when ctx has expired (pgx would otherwise only
// close the connection), within a short bound.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	tx.Rollback(ctx) //nolint:errcheck // the handler's writes are discarded either way
}

// fail marks a message failed, outside the handler's transaction.
func (p *InboundProcessor) fail(ctx context.Context, log *slog.Logger, c policystore.InboundLease, cause error) {
	log.Error("inbound sms failed", "err", cause)
	if err := p.store.FinishInbound(ctx, nil, c.Provider, c.MessageID, cause); err != nil && !errors.Is(err, policystore.ErrInboundNotPending) {
		log.Error("inbound sms: could not mark it failed; it will be retried", "err", err)
	}
}

// safeHandle runs the handler, turning a panic into an error.
func (p *InboundProcessor) safeHandle(ctx context.Context, tx pgx.Tx, m InboundMessage) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("inbound sms: handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", v)
		}
	}()
	return p.handle(ctx, tx, m)
}

// NewInboundSMSHandler answers a provider's inbound-SMS callback: parse
// (sms.ParseInbound), record (deduplicated on the provider's id), wake the
// processor, 200 (with sms.InboundAck when the provider has one). The reply
// goes out by SMS, never in the HTTP answer.
//
// A duplicate (AT retries every minute for 12 hours) also gets 200. A
// request that cannot be genuine gets 400 (413 when too large). Only a
// database that cannot record the message gets 503, so that the provider
// retries later, which for AT is the right behaviour.
func NewInboundSMSHandler(sms *providers.SMS, store InboundStore, wake func(), log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ack := sms.InboundAck
	if ack == nil {
		ack = writeOK
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, err := sms.ParseInbound(r)
		if err != nil {
			rejectRequest(w, r, log, err)
			return
		}
		isNew, err := store.RecordInbound(r.Context(), m)
		if err != nil {
			log.Error("inbound sms: could not record it; the provider will retry", "req", middleware.GetReqID(r.Context()),
				"provider", m.Provider, "id", m.MessageID, "from", maskPhone(m.From), "err", err)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		log.Info("inbound sms received", "req", middleware.GetReqID(r.Context()), "provider", m.Provider,
			"id", m.MessageID, "from", maskPhone(m.From), "duplicate", !isNew)
		if isNew && wake != nil {
			wake()
		}
		ack(w)
	})
}

// DeliveryStore applies delivery reports (*policystore.Store).
type DeliveryStore interface {
	ApplyDeliveryReport(ctx context.Context, provider, providerMessageID, status, rawStatus, reason string) (matched bool, err error)
}

// NewDeliveryReportHandler answers a provider's delivery-report callback
// (sms.ParseDelivery).
// Every well-formed report gets 200 and is stored with its raw status: an
// unknown status changes nothing else, and a report for a message not yet
// recorded as sent is parked and applied when it is (policystore). 400 for a
// report that cannot be genuine; 503 only when the database cannot store
// it, so that the provider retries.
func NewDeliveryReportHandler(sms *providers.SMS, store DeliveryStore, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := sms.ParseDelivery(r)
		if err != nil {
			rejectRequest(w, r, log, err)
			return
		}
		attrs := []any{"req", middleware.GetReqID(r.Context()), "provider", d.Provider, "message_id", d.MessageID,
			"status", d.RawStatus, "to", maskPhone(d.Phone)}
		matched, err := store.ApplyDeliveryReport(r.Context(), d.Provider, d.MessageID, d.State, d.RawStatus, d.Reason)
		if err != nil {
			log.Error("delivery report: could not store it; the provider will retry", append(attrs, "err", err)...)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		if d.State == "" {
			log.Warn("delivery report with a status we do not know: stored raw, message state unchanged", attrs...)
		}
		if d.Reason != "" {
			attrs = append(attrs, "reason", d.Reason)
		}
		log.Info("delivery report", append(attrs, "matched", matched)...)
		writeOK(w)
	})
}
