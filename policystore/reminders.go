package policystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openimis/imis-gateway/openimis"
)

// The SQL of renewal reminders (README.md, "Renewal reminders"): the
// scheme's renewal interval, the policies due, the SMS consent openIMIS
// records, and imis_gateway.renewal_reminder (migration 00010). The job
// that decides and words the reminders is gateway.Reminders.

// DefaultRenewalInterval is Django's policy_renewal_interval, used when the
// database sets none.
const DefaultRenewalInterval = 14

// Where a renewal interval comes from, most specific first.
const (
	IntervalFromModuleConfiguration = "core_ModuleConfiguration"
	IntervalFromIMISDefaults        = "tblIMISDefaults"
	IntervalFromDefault             = "default"
)

// reminderQueryTimeout bounds the scan for policies due, which reads every
// policy expiring in the interval: longer than a hop's look-up.
const reminderQueryTimeout = 30 * time.Second

// Outbox purposes of reminders.
const (
	PurposeReminderFamily  = "reminder.family"
	PurposeReminderOfficer = "reminder.officer"
)

// RenewalInterval is how many days before expiry a policy is due for a
// reminder, as the database says: the policy module's
// policy_renewal_interval in "core_ModuleConfiguration" (Django's runtime
// override, where that table exists and the policy module's row is not
// disabled), else "tblIMISDefaults"."PolicyRenewalInterval" (of the first
// row), else DefaultRenewalInterval. source is one of the
// IntervalFrom constants.
func (s *Store) RenewalInterval(ctx context.Context) (days int, source string, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	var (
		hasModuleConfig bool
		config          *string
		imisDefault     *int32
	)
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('"core_ModuleConfiguration"') IS NOT NULL`).Scan(&hasModuleConfig); err != nil {
		return 0, "", fmt.Errorf("policystore: renewal interval: %w", err)
	}
	if hasModuleConfig {
		err := s.pool.QueryRow(ctx, `
			SELECT config FROM "core_ModuleConfiguration"
			WHERE module = 'policy' AND layer = 'be' AND (is_disabled_until IS NULL OR is_disabled_until < now())
			LIMIT 1`).Scan(&config)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, "", fmt.Errorf("policystore: renewal interval from core_ModuleConfiguration: %w", err)
		}
		if config != nil {
			if days, ok := moduleRenewalInterval(*config); ok {
				return days, IntervalFromModuleConfiguration, nil
			}
		}
	}
	err = s.pool.QueryRow(ctx, `SELECT "PolicyRenewalInterval" FROM "tblIMISDefaults" ORDER BY "DefaultID" LIMIT 1`).Scan(&imisDefault)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, "", fmt.Errorf("policystore: renewal interval from tblIMISDefaults: %w", err)
	}
	if imisDefault != nil && *imisDefault > 0 {
		return int(*imisDefault), IntervalFromIMISDefaults, nil
	}
	return DefaultRenewalInterval, IntervalFromDefault, nil
}

// moduleRenewalInterval reads policy_renewal_interval from the policy
// module's JSON configuration: a positive number of days, or its digits
// as a string. Anything else is no override, as Django falls back on its
// default when the configuration does not parse.
func moduleRenewalInterval(config string) (int, bool) {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		return 0, false
	}
	raw, ok := cfg["policy_renewal_interval"]
	if !ok {
		return 0, false
	}
	var text string
	if json.Unmarshal(raw, &text) != nil {
		text = string(raw)
	}
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// familySMSColumns finds "tblFamilySMS" and the spelling of its columns:
// the 1.4.2 dump created them unquoted (familyid, approvalofsms, ...),
// a database made otherwise may have them as Django names them
// ("FamilyID", "ApprovalOfSMS", ...). ok is false without the table.
func (s *Store) familySMSColumns(ctx context.Context) (cols map[string]string, ok bool, err error) {
	rows, err := s.pool.Query(ctx, `
		SELECT lower(column_name), column_name FROM information_schema.columns
		WHERE table_schema = ANY (current_schemas(false)) AND table_name = 'tblFamilySMS'
		  AND lower(column_name) IN ('familyid', 'approvalofsms', 'languageofsms', 'validityto')`)
	if err != nil {
		return nil, false, fmt.Errorf("policystore: find tblFamilySMS: %w", err)
	}
	cols = map[string]string{}
	for rows.Next() {
		var lower, name string
		if err := rows.Scan(&lower, &name); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("policystore: find tblFamilySMS: %w", err)
		}
		cols[lower] = pgx.Identifier{name}.Sanitize()
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("policystore: find tblFamilySMS: %w", err)
	}
	for _, c := range []string{"familyid", "approvalofsms", "validityto"} {
		if cols[c] == "" {
			return nil, false, nil
		}
	}
	return cols, true, nil
}

// policiesDueSQL lists current Active policies expiring from $1 to $2
// (scheme-local dates) that no other current policy of the family renews
// yet (one of the same product, or of the product it converts to, starting
// after it expires), with the family's head and, where asked, its SMS
// consent (%s: the columns and the join, or NULLs). $3, when not NULL,
// keeps the families living in those locations (an officer's area).
const policiesDueSQL = `
SELECT p."PolicyID", p."FamilyID", COALESCE(f."LocationId", 0), COALESCE(pr."ProductCode", ''), p."ExpiryDate",
       COALESCE(h."CHFID", ''), COALESCE(h."OtherNames", ''), COALESCE(h."LastName", ''), COALESCE(h."Phone", ''),
       %s,
       EXISTS (SELECT 1 FROM imis_gateway.renewal_reminder rr
               WHERE rr.kind = 'family' AND rr.policy_id = p."PolicyID" AND rr.expiry_date = p."ExpiryDate")
FROM "tblPolicy" p
JOIN "tblFamilies" f ON f."FamilyID" = p."FamilyID" AND f."ValidityTo" IS NULL
JOIN "tblProduct" pr ON pr."ProdID" = p."ProdID"
LEFT JOIN "tblInsuree" h ON h."InsureeID" = f."InsureeID" AND h."ValidityTo" IS NULL
%s
WHERE p."ValidityTo" IS NULL AND p."PolicyStatus" = 2 AND p."ExpiryDate" BETWEEN $1 AND $2
  AND ($3::int[] IS NULL OR f."LocationId" = ANY ($3))
  AND NOT EXISTS (
    SELECT 1 FROM "tblPolicy" n
    WHERE n."FamilyID" = p."FamilyID" AND n."ValidityTo" IS NULL AND n."PolicyID" <> p."PolicyID"
      AND (n."ProdID" = p."ProdID" OR n."ProdID" = pr."ConversionProdID") AND n."StartDate" > p."ExpiryDate")
ORDER BY p."ExpiryDate", p."PolicyID"`

// PoliciesDue lists the policies due for a reminder: current, Active,
// expiring from from to until (scheme-local dates, inclusive), not renewed
// yet; in the locations of area when area is not nil. withConsent reads
// each family's current "tblFamilySMS" row where the table exists
// (otherwise Consent is openimis.ConsentNotKept).
// Expiry first.
func (s *Store) PoliciesDue(ctx context.Context, from, until time.Time, area []int, withConsent bool) ([]openimis.PolicyDue, error) {
	ctx, cancel := context.WithTimeout(ctx, reminderQueryTimeout)
	defer cancel()
	consentCols, consentJoin, consentKept := "NULL::boolean, NULL::text", "", false
	if withConsent {
		cols, ok, err := s.familySMSColumns(ctx)
		if err != nil {
			return nil, err
		}
		if consentKept = ok; ok {
			language := "NULL::text"
			if cols["languageofsms"] != "" {
				language = "sms." + cols["languageofsms"] + "::text"
			}
			consentCols = "sms." + cols["approvalofsms"] + ", " + language
			consentJoin = fmt.Sprintf(`LEFT JOIN LATERAL (
  SELECT * FROM "tblFamilySMS" s WHERE s.%s = p."FamilyID" AND s.%s IS NULL LIMIT 1) sms ON true`,
				cols["familyid"], cols["validityto"])
		}
	}
	var areaArg any
	if area != nil {
		areaArg = area
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(policiesDueSQL, consentCols, consentJoin),
		openimis.DateOf(from), openimis.DateOf(until), areaArg)
	if err != nil {
		return nil, fmt.Errorf("policystore: policies due: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (openimis.PolicyDue, error) {
		var (
			d           openimis.PolicyDue
			other, last string
			approval    *bool
			language    *string
		)
		err := row.Scan(&d.PolicyID, &d.FamilyID, &d.Location, &d.ProductCode, &d.Expiry,
			&d.HeadCHFID, &other, &last, &d.HeadPhone, &approval, &language, &d.Reminded)
		d.HeadName = openimis.PersonName(other, last)
		d.ProductCode = strings.TrimSpace(d.ProductCode)
		switch {
		case !consentKept:
		case approval == nil:
			d.Consent = openimis.ConsentNoRow
		case *approval:
			d.Consent = openimis.ConsentGiven
		default:
			d.Consent = openimis.ConsentRefused
		}
		if language != nil {
			d.SMSLanguage = strings.TrimSpace(*language)
		}
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("policystore: policies due: %w", err)
	}
	return due, nil
}

// RenewalDue is the quote of the renewal of the family of chfid into
// productCode (or what it converts to), as any officer of the family's area
// would get it: the amount due that a reminder names. Refusals are
// *openimis.RefusalError (a family already renewed: ReasonRenewalExists).
func (s *Store) RenewalDue(ctx context.Context, chfid, productCode string, today time.Time) (openimis.RenewalQuote, error) {
	chfid, productCode = strings.TrimSpace(chfid), strings.TrimSpace(productCode)
	if err := s.checkCHFID(chfid); err != nil {
		return openimis.RenewalQuote{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	fam, _, err := s.loadFamily(ctx, s.pool, chfid, productCode, false)
	if err != nil {
		return openimis.RenewalQuote{}, err
	}
	return openimis.QuoteRenewal(fam, chfid, productCode, today)
}

// Reminder is one reminder SMS to queue.
type Reminder struct {
	// Family reminders: the policy and its expiry date, once each.
	PolicyID int
	Expiry   time.Time
	FamilyID int
	// Officer digests, when OfficerID is set: the officer, once per Day.
	OfficerID int
	Day       time.Time

	Provider  string // sends it
	Recipient string // E.164
	Lang      string
	Body      string
}

func (r Reminder) officer() bool { return r.OfficerID != 0 }

const insertReminderSQL = `
INSERT INTO imis_gateway.renewal_reminder (kind, policy_id, expiry_date, family_id, officer_id, digest_date, recipient, lang)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT DO NOTHING
RETURNING id`

// QueueReminder records r and queues its SMS in one transaction, unless
// the same reminder (the policy and expiry date, or the officer and day)
// is recorded already: then it writes nothing and returns false.
func (s *Store) QueueReminder(ctx context.Context, r Reminder) (queued bool, err error) {
	kind, purpose := "family", PurposeReminderFamily
	var policy, family, officer, expiry, day any
	if r.officer() {
		kind, purpose = "officer", PurposeReminderOfficer
		officer, day = r.OfficerID, openimis.DateOf(r.Day)
	} else {
		if r.PolicyID == 0 || r.Expiry.IsZero() {
			return false, errors.New("policystore: queue reminder: a policy and its expiry date are required")
		}
		policy, family, expiry = r.PolicyID, r.FamilyID, openimis.DateOf(r.Expiry)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, insertReminderSQL, kind, policy, expiry, family, officer, day, r.Recipient, r.Lang).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		queued = true
		return EnqueueSMS(ctx, tx, OutboundSMS{Provider: r.Provider, Recipient: r.Recipient, Body: r.Body,
			Purpose: purpose, DedupKey: "reminder:" + strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return false, fmt.Errorf("policystore: queue %s reminder: %w", kind, err)
	}
	return queued, nil
}

// WithJobLock runs fn while holding the PostgreSQL advisory lock named
// job, so that one instance at a time runs it whatever the number of
// gateways; ran is false, without running fn, when another session holds
// it. The lock is a session lock on a connection set aside for it, not a
// transaction's: fn commits as it goes.
func (s *Store) WithJobLock(ctx context.Context, job string, fn func(context.Context) error) (ran bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("policystore: lock %s: %w", job, err)
	}
	defer conn.Release()
	key := "imis_gateway.job:" + job
	lockCtx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	err = conn.QueryRow(lockCtx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&ran)
	cancel()
	if err != nil || !ran {
		if err != nil {
			err = fmt.Errorf("policystore: lock %s: %w", job, err)
		}
		return false, err
	}
	defer func() {
		// Unlocked even when ctx ended; a connection that cannot say so is
		// closed, which releases the lock with the session.
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.queryTimeout)
		defer cancel()
		if _, uerr := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key); uerr != nil {
			conn.Hijack().Close(unlockCtx) //nolint:errcheck // closing is the fallback
		}
	}()
	return true, fn(ctx)
}

// Officers lists the current enrolment officers still working on today,
// by "OfficerID", from the officer index (at most OfficerOptions.Refresh
// old).
func (s *Store) Officers(ctx context.Context, today time.Time) ([]openimis.Officer, error) {
	idx, err := s.officerIndex(ctx)
	if err != nil {
		return nil, err
	}
	var out []openimis.Officer
	seen := map[int]bool{}
	for _, officers := range idx {
		for _, o := range officers {
			if o.Active(today) && !seen[o.ID] {
				seen[o.ID] = true
				out = append(out, o)
			}
		}
	}
	slices.SortFunc(out, func(a, b openimis.Officer) int { return a.ID - b.ID })
	return out, nil
}
