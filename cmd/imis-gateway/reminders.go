package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/policystore"
)

// remindersEnv is what `reminders run --help` lists: the reminders'
// settings; the rest of serve's environment applies too.
var remindersEnv = [][2]string{
	{"DATABASE_URL", "PostgreSQL URL of the openIMIS database (required)"},
	{"REMINDER_DAYS", "days before expiry a policy is due (default: the database's renewal interval, else 14)"},
	{"REMINDER_WITHOUT_CONSENT_ROW", "send or skip: families without a current tblFamilySMS row (default send)"},
	{"REMINDER_OFFICER_DIGEST", "on or off: each officer's list of the families due in the officer's area (default off)"},
	{"SMS_PROVIDER", "the provider whose outbox queue the reminders join (as serve chooses it)"},
	{"DEFAULT_LANGUAGE, PHONE_REGION, TIME_ZONE, CURRENCY, MESSAGES_DIR, TRANSLITERATE", "as for serve"},
}

// reminders runs `reminders run`: the job once, now.
func reminders(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
			fmt.Fprint(env.stdout, remindersUsage)
			return nil
		}
		fmt.Fprint(env.stderr, remindersUsage)
		return errUsage
	}
	fs := newFlagSet(env, "reminders run", strings.TrimSpace(remindersRunSynopsis), remindersEnv)
	dev := fs.Bool("dev", false, "as serve --dev: provider settings may be left out")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadServeConfig(env.getenv, *dev, "")
	if err != nil {
		return err
	}
	log := newLogger(env, cfg)
	store, err := policystore.Open(ctx, cfg.databaseURL, policystore.Options{})
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	defer store.Close()
	if err := requireMigrated(ctx, cfg.databaseURL); err != nil {
		return err
	}
	store.SetOfficerOptions(policystore.OfficerOptions{Region: cfg.region})
	catalog, err := menus.LoadCatalog(cfg.messagesDir)
	if err != nil {
		return fmt.Errorf("MESSAGES_DIR: %w", err)
	}
	engine := menus.New(store, menuOptions(cfg, store, catalog))
	if !cfg.remindersOn {
		fmt.Fprintln(env.stdout, "REMINDERS=off: serve runs no daily job; running it once, as asked")
	}
	if !sendsSMS(cfg) {
		fmt.Fprintf(env.stdout, "%s is not configured to send SMS: the reminders wait in the outbox until it is\n", cfg.smsProvider)
	}
	rep, err := newReminders(cfg, store, engine, store, nil, nil, log).Run(ctx)
	fmt.Fprint(env.stdout, rep.String())
	return err
}

const remindersRunSynopsis = `
Run the renewal reminders job once, now, whatever the hour and whatever REMINDERS says: queue the
reminders of the policies due that no earlier run queued (and, with REMINDER_OFFICER_DIGEST=on, the
officers' lists of the day), then print what was queued and what was skipped, by reason. A running
serve sends them through its outbox. It reads serve's environment; another instance running the job
at the same time makes this run do nothing, which it says.`

const remindersUsage = `Usage: imis-gateway reminders run [flags]
` + remindersRunSynopsis + `

Run 'imis-gateway reminders run --help' for its flags and environment variables.
`

// menuOptions are the menus' settings that word reminders.
func menuOptions(cfg serveConfig, store *policystore.Store, catalog *menus.Catalog) menus.Options {
	return menus.Options{Location: cfg.location, PhoneRegion: cfg.region, CHFIDMaxLen: store.Columns().CHFIDMaxLen,
		DefaultLang: cfg.lang, Catalog: catalog, Currency: cfg.currency, Transliterate: cfg.transliterate}
}

func newReminders(cfg serveConfig, store *policystore.Store, engine *menus.Engine, langs menus.LanguageStore,
	metrics *gateway.Metrics, notify func(), log *slog.Logger) *gateway.Reminders {
	opt := cfg.reminders
	opt.Location, opt.PhoneRegion, opt.DefaultLang, opt.Provider = cfg.location, cfg.region, cfg.lang, cfg.smsProvider
	opt.Metrics, opt.Notify, opt.Log = metrics, notify, log
	return gateway.NewReminders(store, engine, langs, opt)
}

// sendsSMS reports whether the provider that sends reminders is configured
// to send.
func sendsSMS(cfg serveConfig) bool {
	c, ok := cfg.senders[cfg.smsProvider].(interface{ Configured() bool })
	return ok && c.Configured()
}

// loadReminders reads the reminders' settings.
func loadReminders(getenv func(string) string, problems *[]string) (on bool, opt gateway.ReminderOptions) {
	onOff := func(name string, def bool) bool {
		switch v := strings.ToLower(strings.TrimSpace(getenv(name))); v {
		case "":
			return def
		case "on":
			return true
		case "off":
			return false
		default:
			*problems = append(*problems, fmt.Sprintf("%s %q: want on or off", name, v))
			return def
		}
	}
	on = onOff("REMINDERS", true)
	opt.OfficerDigest = onOff("REMINDER_OFFICER_DIGEST", false)
	var err error
	if opt.At, err = gateway.ParseClock(cmp.Or(getenv("REMINDER_AT"), gateway.DefaultReminderAt.String())); err != nil {
		*problems = append(*problems, "REMINDER_AT "+err.Error())
	}
	if opt.Window, err = gateway.ParseWindow(cmp.Or(getenv("REMINDER_WINDOW"), gateway.DefaultReminderWindow.String())); err != nil {
		*problems = append(*problems, "REMINDER_WINDOW "+err.Error())
	} else if !opt.Window.Includes(opt.At) {
		*problems = append(*problems, fmt.Sprintf("REMINDER_AT %s is outside REMINDER_WINDOW %s: the job would never queue anything", opt.At, opt.Window))
	}
	if v := getenv("REMINDER_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			*problems = append(*problems, fmt.Sprintf("REMINDER_DAYS %q: want a number of days from 1 to 366", v))
		}
		opt.Days = n
	}
	switch v := strings.ToLower(getenv("REMINDER_WITHOUT_CONSENT_ROW")); v {
	case "", "send":
	case "skip":
		opt.SkipWithoutConsentRow = true
	default:
		*problems = append(*problems, fmt.Sprintf("REMINDER_WITHOUT_CONSENT_ROW %q: want send or skip", v))
	}
	return on, opt
}
