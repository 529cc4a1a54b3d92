package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
)

// Defaults of SMSOptions.
const (
	DefaultSMSRepeatWindow       = 10 * time.Minute
	DefaultSMSReplyBudget        = 20
	DefaultSMSOfficerReplyBudget = 100
)

// replyBudgetPeriod is the period a reply budget is counted over.
const replyBudgetPeriod = time.Hour

// SMSOptions tune SMSCommands. Zero values take the defaults; a negative
// RepeatWindow or budget turns that check off.
type SMSOptions struct {
	Log *slog.Logger
	// PhoneRegion reads senders given as national numbers; default "TZ".
	PhoneRegion string
	// RepeatWindow: a message from a phone whose same text (trimmed,
	// whitespace collapsed, case folded) was answered within it gets no
	// reply. Default DefaultSMSRepeatWindow.
	RepeatWindow time.Duration
	// ReplyBudget is the replies a phone gets per hour; past it, messages
	// go unanswered. Default DefaultSMSReplyBudget.
	ReplyBudget int
	// OfficerReplyBudget is ReplyBudget for a current enrolment officer's
	// phone (one Officers knows). Default DefaultSMSOfficerReplyBudget.
	OfficerReplyBudget int
	// Officers recognises officers' phones; nil: everyone has ReplyBudget.
	Officers menus.OfficerDirectory
	// Location is the scheme's time zone, which decides whether an officer
	// still works today; default UTC.
	Location *time.Location
	// Metrics counts the messages by command and outcome; nil: counted nowhere.
	Metrics *Metrics
}

func (o *SMSOptions) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PhoneRegion == "" {
		o.PhoneRegion = "TZ"
	}
	if o.RepeatWindow == 0 {
		o.RepeatWindow = DefaultSMSRepeatWindow
	}
	if o.ReplyBudget == 0 {
		o.ReplyBudget = DefaultSMSReplyBudget
	}
	if o.OfficerReplyBudget == 0 {
		o.OfficerReplyBudget = DefaultSMSOfficerReplyBudget
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
}

// suppression is why a message gets no reply; the values are the metric's
// reason label and, prefixed with "suppressed:", the message's outcome.
type suppression string

const (
	notMobile  suppression = "not_mobile"
	duplicate  suppression = "duplicate"
	overBudget suppression = "budget"
)

// suppressionReasons lists them in the order they are checked.
var suppressionReasons = []suppression{notMobile, duplicate, overBudget}

// SMSCommands answers inbound SMS with the menus' command grammar (CHECK,
// CLAIMS, LANG, RENEW, HELP) and queues the reply in the outbox in the same
// transaction that marks the message handled: a message is answered once,
// whatever crashes in between.
//
// Some messages get no reply, and run no command: those from a sender that
// is not a mobile number (a reply to "MPESA" or a short code could start
// two auto-responders answering each other for ever), a text the phone sent
// already and got answered within the repeat window, and messages past the
// phone's reply budget. Each costs the scheme an SMS otherwise.
func SMSCommands(engine *menus.Engine, opts SMSOptions) InboundHandler {
	opts.defaults()
	log := opts.Log
	return func(ctx context.Context, tx pgx.Tx, m InboundMessage) error {
		why, err := opts.suppressionOf(ctx, tx, m)
		if err != nil {
			return err
		}
		if why != "" {
			opts.Metrics.smsSuppressedFor(why)
			log.Info("sms suppressed", "provider", m.Provider, "id", m.MessageID, "from", maskPhone(m.From), "reason", string(why))
			return policystore.SetInboundOutcome(ctx, tx, m.Provider, m.MessageID, m.Text, "suppressed:"+string(why))
		}
		reply, err := engine.SMS(ctx, menus.SMSRequest{From: m.From, Text: m.Text, Key: m.Provider + ":" + m.MessageID, Provider: m.Provider})
		outcome := "replied"
		if err != nil {
			// The sender is told to try again (reply holds that text) rather
			// than left without an answer, and trying again soon with the
			// same text is no repeat: the outcome is not "replied".
			log.Warn("sms command failed", "provider", m.Provider, "id", m.MessageID, "command", reply.Command, "err", err)
			outcome = "replied:unavailable"
		}
		opts.Metrics.inboundSMS(reply.Command, outcome)
		log.Info("sms answered", "provider", m.Provider, "id", m.MessageID, "from", maskPhone(m.From),
			"command", reply.Command, "lang", reply.Lang, "encoding", reply.Encoding.String(), "length", reply.Length, "parts", reply.Parts)
		err = policystore.EnqueueSMS(ctx, tx, policystore.OutboundSMS{
			Provider:  m.Provider,
			Recipient: m.From,
			Body:      reply.Text,
			Purpose:   policystore.PurposeSMSReply,
			DedupKey:  "sms-reply:" + m.Provider + ":" + m.MessageID,
		})
		if err != nil {
			return err
		}
		return policystore.SetInboundOutcome(ctx, tx, m.Provider, m.MessageID, m.Text, outcome)
	}
}

// suppressionOf decides, in tx, whether m goes unanswered and why ("": it is
// answered). Past the sender check it holds the sender's lock until tx
// ends, so that the phone's next message is decided knowing this one's
// reply.
func (o *SMSOptions) suppressionOf(ctx context.Context, tx pgx.Tx, m InboundMessage) (suppression, error) {
	if _, ok := policystore.MobileNumber(m.From, o.PhoneRegion); !ok {
		return notMobile, nil
	}
	if o.RepeatWindow < 0 && o.ReplyBudget < 0 && o.OfficerReplyBudget < 0 {
		return "", nil
	}
	if err := policystore.LockSender(ctx, tx, m.From); err != nil {
		return "", err
	}
	if o.RepeatWindow > 0 {
		repeat, err := policystore.RepeatAnswered(ctx, tx, m.Provider, m.MessageID, m.Text, o.RepeatWindow)
		if err != nil {
			return "", err
		}
		if repeat {
			return duplicate, nil
		}
	}
	budget := o.replyBudget(ctx, m.From)
	if budget < 0 {
		return "", nil
	}
	n, err := policystore.RecentReplies(ctx, tx, m.From, replyBudgetPeriod, budget)
	if err != nil {
		return "", err
	}
	if n >= budget {
		return overBudget, nil
	}
	return "", nil
}

// replyBudget is the phone's replies per hour, negative for no limit.
func (o *SMSOptions) replyBudget(ctx context.Context, phone string) int {
	if o.Officers == nil {
		return o.ReplyBudget
	}
	_, officer, err := o.Officers.OfficerByPhone(ctx, phone, openimis.DateOf(time.Now().In(o.Location)))
	if err != nil {
		// Without the officer index (it could never load) the public budget
		// holds: the message is still decided, rather than failed.
		o.Log.Warn("sms reply budget: officer look-up failed; the public budget applies", "from", maskPhone(phone), "err", err)
	}
	if officer {
		return o.OfficerReplyBudget
	}
	return o.ReplyBudget
}

// RenewalsNotifying is the policy store's renewal service that wakes the
// outbox worker after each renewal, so that its confirmation SMS leave at
// once rather than at the worker's next poll.
type RenewalsNotifying struct {
	*policystore.Store
	Notify func()
	// Metrics count the renewals by channel and outcome; nil: counted nowhere.
	Metrics *Metrics
	// Trace, when set, records each renewal and refusal.
	Trace *Tracer
}

// Renew renews, counts, then wakes the outbox.
func (r RenewalsNotifying) Renew(ctx context.Context, req openimis.RenewalRequest) (openimis.RenewalResult, error) {
	res, err := r.Store.Renew(ctx, req)
	r.Metrics.renewal(req.Channel, res, err)
	r.Trace.renewal(req, res, err)
	if err == nil && !res.Repeated {
		r.Notify()
	}
	return res, err
}
