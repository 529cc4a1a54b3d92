package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
)

// Renewal reminders by SMS (README.md, "Renewal reminders"): a daily job
// queues one reminder per policy due to the family head, and, when asked,
// one list per officer of the families due in the officer's area. The SQL
// is policystore's (reminders.go), the texts the menus' (reminders.go).

// Kinds of reminder: the label of imisgw_reminders_queued_total.
const (
	reminderFamily  = "family"
	reminderOfficer = "officer"
)

// Reasons a reminder is not queued, besides a renewal's refusal reasons
// (openimis.RefusalReason): the label of imisgw_reminders_skipped_total.
const (
	skipNoPhone      = "no_phone"
	skipNoConsent    = "no_consent"
	skipNoConsentRow = "no_consent_row"
	skipOfficerNoSMS = "officer_no_sms"
)

// remindersJob names the job's lock: one instance runs it at a time.
const remindersJob = "reminders"

// Clock is a time of day, in minutes after midnight.
type Clock int

// ParseClock reads "HH:MM" (24-hour).
func ParseClock(s string) (Clock, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q: want a time of day such as 09:00", s)
	}
	return Clock(t.Hour()*60 + t.Minute()), nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// on is the moment of c on t's day, in t's location.
func (c Clock) on(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), int(c)/60, int(c)%60, 0, 0, t.Location())
}

func clockOf(t time.Time) Clock { return Clock(t.Hour()*60 + t.Minute()) }

// Window is a part of the day, From included, To excluded.
type Window struct{ From, To Clock }

// ParseWindow reads "HH:MM-HH:MM" within one day.
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("%q: want a part of the day such as 08:00-20:00", s)
	}
	var w Window
	var err error
	if w.From, err = ParseClock(from); err != nil {
		return Window{}, err
	}
	if w.To, err = ParseClock(to); err != nil {
		return Window{}, err
	}
	if w.From >= w.To {
		return Window{}, fmt.Errorf("%q: the window must start before it ends, within one day", s)
	}
	return w, nil
}

func (w Window) String() string { return w.From.String() + "-" + w.To.String() }

// Contains reports whether t's time of day is in the window.
func (w Window) Contains(t time.Time) bool { return w.Includes(clockOf(t)) }

// Includes reports whether c is in the window.
func (w Window) Includes(c Clock) bool { return w.From <= c && c < w.To }

// ReminderOptions configure Reminders. Zero values take the defaults.
type ReminderOptions struct {
	// Days is how many days before expiry a policy is due (REMINDER_DAYS);
	// 0: the database's renewal interval (policystore.RenewalInterval).
	Days int
	// SkipWithoutConsentRow leaves out families without a current
	// "tblFamilySMS" row where the table exists
	// (REMINDER_WITHOUT_CONSENT_ROW=skip); by default they get reminders.
	SkipWithoutConsentRow bool
	// OfficerDigest sends each officer the list of the families due in the
	// officer's area, once a day (REMINDER_OFFICER_DIGEST).
	OfficerDigest bool
	// At is when the daily job runs (REMINDER_AT); default 09:00.
	At Clock
	// Window is when the daily job may queue (REMINDER_WINDOW), in
	// Location; default 08:00-20:00. Run ignores it.
	Window Window
	// Location is the scheme's time zone; default UTC.
	Location *time.Location
	// PhoneRegion reads the heads' phones; default "TZ".
	PhoneRegion string
	// DefaultLang words the reminders of phones that chose no language;
	// default "en".
	DefaultLang string
	// Provider sends the reminders (SMS_PROVIDER). Required.
	Provider string
	Now      func() time.Time // default time.Now
	Log      *slog.Logger
	Metrics  *Metrics
	// Notify wakes the outbox worker after a run queued something.
	Notify func()
}

// Defaults of ReminderOptions.
var (
	DefaultReminderAt     = Clock(9 * 60)
	DefaultReminderWindow = Window{From: 8 * 60, To: 20 * 60}
)

func (o *ReminderOptions) defaults() {
	if o.At == 0 {
		o.At = DefaultReminderAt
	}
	if o.Window == (Window{}) {
		o.Window = DefaultReminderWindow
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.PhoneRegion == "" {
		o.PhoneRegion = policystore.DefaultPhoneRegion
	}
	if !menus.Supported(o.DefaultLang) {
		o.DefaultLang = "en"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Notify == nil {
		o.Notify = func() {}
	}
}

// DueFamilies lists the families due for renewal in an officer's area
// (menus.RenewalsDue, SMS DUE), as the reminders job finds them.
type DueFamilies struct {
	Store *policystore.Store
	// Days is REMINDER_DAYS; 0: the database's renewal interval.
	Days int
}

// FamiliesDue lists the policies of officer's area due from today.
func (d DueFamilies) FamiliesDue(ctx context.Context, officer openimis.Officer, today time.Time) ([]openimis.PolicyDue, time.Time, error) {
	days, _, err := d.interval(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	until := openimis.DateOf(today).AddDate(0, 0, days)
	if len(officer.Area) == 0 {
		return nil, until, nil
	}
	due, err := d.Store.PoliciesDue(ctx, today, until, officer.Area, false)
	return inArea(due, officer), until, err
}

// interval is REMINDER_DAYS, else the database's renewal interval.
func (d DueFamilies) interval(ctx context.Context) (int, string, error) {
	if d.Days > 0 {
		return d.Days, "REMINDER_DAYS", nil
	}
	return d.Store.RenewalInterval(ctx)
}

// Reminders is the renewal reminders job.
type Reminders struct {
	due    DueFamilies
	store  *policystore.Store
	engine *menus.Engine
	langs  menus.LanguageStore
	opt    ReminderOptions
}

// NewReminders returns the job over store, wording with engine, in the
// language each phone chose in langs.
func NewReminders(store *policystore.Store, engine *menus.Engine, langs menus.LanguageStore, opt ReminderOptions) *Reminders {
	opt.defaults()
	return &Reminders{due: DueFamilies{Store: store, Days: opt.Days}, store: store, engine: engine, langs: langs, opt: opt}
}

// ReminderReport is what a run did.
type ReminderReport struct {
	// Ran is false when another instance was running the job: this run
	// did nothing.
	Ran bool
	// Days before expiry, and where that comes from: REMINDER_DAYS or one
	// of the policystore.IntervalFrom constants.
	Days       int
	DaysSource string
	From       time.Time // today
	Until      time.Time // the last expiry date due
	Due        int       // policies due
	Queued     map[string]int
	Already    int // policies reminded by an earlier run
	Skipped    map[string]int
}

// String is the report as `reminders run` prints it.
func (r ReminderReport) String() string {
	if !r.Ran {
		return "another instance is running the reminders job: nothing queued by this one\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "policies expiring from %s to %s (%d days, from %s): %d due\n",
		r.From.Format(time.DateOnly), r.Until.Format(time.DateOnly), r.Days, r.DaysSource, r.Due)
	fmt.Fprintf(&b, "queued: %d to families, %d to officers\n", r.Queued[reminderFamily], r.Queued[reminderOfficer])
	fmt.Fprintf(&b, "already reminded: %d\n", r.Already)
	skipped := 0
	for _, n := range r.Skipped {
		skipped += n
	}
	fmt.Fprintf(&b, "skipped: %d\n", skipped)
	for _, reason := range slices.Sorted(maps.Keys(r.Skipped)) {
		fmt.Fprintf(&b, "  %-22s %d\n", reason, r.Skipped[reason])
	}
	return b.String()
}

// Run runs the job once, now, whatever the hour: unless another instance
// is running it, it queues the reminders of every policy due not reminded
// yet, and the officers' lists when OfficerDigest is set. An error stops
// the run; what it queued stays queued, and the next run does the rest.
func (r *Reminders) Run(ctx context.Context) (ReminderReport, error) {
	rep := ReminderReport{Queued: map[string]int{}, Skipped: map[string]int{}}
	ran, err := r.store.WithJobLock(ctx, remindersJob, func(ctx context.Context) error {
		return r.run(ctx, &rep)
	})
	rep.Ran = ran
	if queued := rep.Queued[reminderFamily] + rep.Queued[reminderOfficer]; queued > 0 {
		r.opt.Notify()
	}
	if err != nil {
		return rep, fmt.Errorf("reminders: %w", err)
	}
	return rep, nil
}

func (r *Reminders) run(ctx context.Context, rep *ReminderReport) error {
	var err error
	if rep.Days, rep.DaysSource, err = r.due.interval(ctx); err != nil {
		return err
	}
	rep.From = openimis.DateOf(r.opt.Now().In(r.opt.Location))
	rep.Until = rep.From.AddDate(0, 0, rep.Days)
	due, err := r.store.PoliciesDue(ctx, rep.From, rep.Until, nil, true)
	if err != nil {
		return err
	}
	rep.Due = len(due)
	for _, d := range due {
		if err := r.remindFamily(ctx, d, rep); err != nil {
			return err
		}
	}
	if r.opt.OfficerDigest {
		return r.remindOfficers(ctx, due, rep)
	}
	return nil
}

func (r *Reminders) skip(rep *ReminderReport, reason string) {
	rep.Skipped[reason]++
	r.opt.Metrics.reminderSkipped(reason)
}

func (r *Reminders) queued(rep *ReminderReport, kind string, ok bool) {
	if !ok {
		rep.Already++
		return
	}
	rep.Queued[kind]++
	r.opt.Metrics.reminderQueued(kind)
}

// remindFamily queues d's reminder to the family head, unless it is
// queued already or the family may not, or need not, get one.
func (r *Reminders) remindFamily(ctx context.Context, d openimis.PolicyDue, rep *ReminderReport) error {
	if d.Reminded {
		rep.Already++
		return nil
	}
	phone, ok := policystore.MobileNumber(d.HeadPhone, r.opt.PhoneRegion)
	switch {
	case !ok:
		r.skip(rep, skipNoPhone)
		return nil
	case d.Consent == openimis.ConsentRefused:
		r.skip(rep, skipNoConsent)
		return nil
	case d.Consent == openimis.ConsentNoRow && r.opt.SkipWithoutConsentRow:
		r.skip(rep, skipNoConsentRow)
		return nil
	}
	q, err := r.store.RenewalDue(ctx, d.HeadCHFID, d.ProductCode, rep.From)
	var refusal *openimis.RefusalError
	if errors.As(err, &refusal) {
		r.skip(rep, string(refusal.Reason))
		return nil
	}
	if err != nil {
		return err
	}
	// The quote's previous policy may be a later one of the family's, of
	// the product converting; the reminder is about the one expiring.
	q.PreviousExpiry = d.Expiry
	lang, err := r.language(ctx, phone, d.SMSLanguage)
	if err != nil {
		return err
	}
	ok, err = r.store.QueueReminder(ctx, policystore.Reminder{PolicyID: d.PolicyID, Expiry: d.Expiry, FamilyID: d.FamilyID,
		Provider: r.opt.Provider, Recipient: phone, Lang: lang, Body: r.engine.ReminderSMS(lang, q)})
	if err != nil {
		return err
	}
	r.queued(rep, reminderFamily, ok)
	return nil
}

// language is the language phone chose, else the family's "LanguageOfSMS"
// when the gateway speaks it, else the default.
func (r *Reminders) language(ctx context.Context, phone, familyLang string) (string, error) {
	if r.langs != nil {
		lang, ok, err := r.langs.Language(ctx, phone)
		if err != nil {
			return "", fmt.Errorf("language of %s: %w", maskPhone(phone), err)
		}
		if ok && menus.Supported(lang) {
			return lang, nil
		}
	}
	if lang := strings.ToLower(familyLang); menus.Supported(lang) {
		return lang, nil
	}
	return r.opt.DefaultLang, nil
}

// remindOfficers queues, once a day, to each current officer whose area
// has families due, their list.
func (r *Reminders) remindOfficers(ctx context.Context, due []openimis.PolicyDue, rep *ReminderReport) error {
	officers, err := r.store.Officers(ctx, rep.From)
	if err != nil {
		return err
	}
	for _, o := range officers {
		theirs := inArea(due, o)
		if len(theirs) == 0 {
			continue
		}
		if !o.PhoneCommunication {
			r.skip(rep, skipOfficerNoSMS)
			continue
		}
		lang, err := r.language(ctx, o.E164, "")
		if err != nil {
			return err
		}
		ok, err := r.store.QueueReminder(ctx, policystore.Reminder{OfficerID: o.ID, Day: rep.From,
			Provider: r.opt.Provider, Recipient: o.E164, Lang: lang, Body: r.engine.DueSMS(lang, theirs, rep.Until)})
		if err != nil {
			return err
		}
		r.queued(rep, reminderOfficer, ok)
	}
	return nil
}

func inArea(due []openimis.PolicyDue, o openimis.Officer) []openimis.PolicyDue {
	var out []openimis.PolicyDue
	for _, d := range due {
		if o.Covers(d.Location) {
			out = append(out, d)
		}
	}
	return out
}

// RunDaily runs the job every day at At, until ctx ends, and once at
// start when the gateway starts after At within the window (a restart at
// the wrong moment must not skip a day; what was queued already is not
// queued again). A run is skipped outside the window.
func (r *Reminders) RunDaily(ctx context.Context) {
	log := r.opt.Log
	now := r.opt.Now().In(r.opt.Location)
	next := r.firstRun(now)
	log.Info("renewal reminders scheduled", "next", next.Format(time.RFC3339), "window", r.opt.Window.String())
	for {
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		next = r.nextRun(r.opt.Now().In(r.opt.Location))
		rep, inWindow, err := r.RunScheduled(ctx)
		switch {
		case !inWindow:
			log.Warn("renewal reminders not run: outside the sending window", "window", r.opt.Window.String(), "next", next.Format(time.RFC3339))
		case err != nil:
			log.Error("renewal reminders failed", "err", err, "queued_family", rep.Queued[reminderFamily],
				"queued_officer", rep.Queued[reminderOfficer])
		default:
			log.Info("renewal reminders", "ran", rep.Ran, "due", rep.Due, "days", rep.Days, "days_from", rep.DaysSource,
				"queued_family", rep.Queued[reminderFamily], "queued_officer", rep.Queued[reminderOfficer],
				"already", rep.Already, "skipped", rep.Skipped, "next", next.Format(time.RFC3339))
		}
	}
}

// RunScheduled is the scheduled run: Run when now is within the sending
// window, nothing otherwise (inWindow false).
func (r *Reminders) RunScheduled(ctx context.Context) (rep ReminderReport, inWindow bool, err error) {
	if !r.opt.Window.Contains(r.opt.Now().In(r.opt.Location)) {
		return ReminderReport{}, false, nil
	}
	rep, err = r.Run(ctx)
	return rep, true, err
}

// firstRun is now when the gateway starts after today's run time within
// the window, else the next run time.
func (r *Reminders) firstRun(now time.Time) time.Time {
	if clockOf(now) >= r.opt.At && r.opt.Window.Contains(now) {
		return now
	}
	return r.nextRun(now)
}

// nextRun is the first run time after now.
func (r *Reminders) nextRun(now time.Time) time.Time {
	at := r.opt.At.on(now)
	if !at.After(now) {
		at = r.opt.At.on(time.Date(now.Year(), now.Month(), now.Day()+1, 12, 0, 0, 0, now.Location()))
	}
	return at
}
