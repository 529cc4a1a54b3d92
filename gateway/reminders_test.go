package gateway_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers/africastalking"
)

// The demo's heads whose policies the reminder tests make due (policystore/demo).
const (
	head101203401 = "+255712111222" // policy 1, family 1, village 4 (EO001's area)
	head806245517 = "+255712909808" // policy 9, family 8, village 4
	head604120019 = "+255754100200" // policy 6, family 6: due in 9 days in the demo
	// policy 15 (48213): its head has no phone.
)

const officerEO002 = "+255754321098" // EO002, stored as "0754321098": Mwanza

// sentAtLeast waits until the fake AT API has received n SMS to to.
func (g *smsGateway) sentAtLeast(to string, n int) map[string][]string {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if sent := g.sent(to); len(sent[to]) >= n || time.Now().After(deadline) {
			return sent
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// makeDue moves the expiry of the demo policies 1, 9 and 15 to five days
// from today, next to policy 6's nine, and that of any other policy
// expiring within two months a year later (the demo's policies on
// half-year cycles end on 30 June and 31 December).
func makeDue(t *testing.T, store *policystore.Store) {
	t.Helper()
	today := openimis.DateOf(time.Now())
	sqlExec(t, store, `UPDATE "tblPolicy" SET "ExpiryDate" = "ExpiryDate" + 366
		WHERE "ExpiryDate" BETWEEN $1 AND $2 AND "PolicyID" NOT IN (1, 6, 9, 15)`, today.AddDate(0, 0, -1), today.AddDate(0, 0, 60))
	sqlExec(t, store, `UPDATE "tblPolicy" SET "ExpiryDate" = $1 WHERE "PolicyID" IN (1, 9, 15)`, today.AddDate(0, 0, 5))
}

func newReminders(store *policystore.Store, engine *menus.Engine, opt gateway.ReminderOptions) *gateway.Reminders {
	opt.Provider = africastalking.Name
	return gateway.NewReminders(store, engine, store, opt)
}

func sqlExec(t *testing.T, store *policystore.Store, sql string, args ...any) {
	t.Helper()
	if _, err := store.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// reminded lists the recipients of queued family reminders, and the
// texts by recipient.
func reminded(t *testing.T, store *policystore.Store, purpose string) map[string]string {
	t.Helper()
	rows, err := store.Pool().Query(context.Background(), `SELECT recipient, body FROM imis_gateway.outbox WHERE purpose = $1`, purpose)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var to, body string
		if err := rows.Scan(&to, &body); err != nil {
			t.Fatal(err)
		}
		if _, twice := out[to]; twice {
			t.Errorf("two reminders to %s", to)
		}
		out[to] = body
	}
	return out
}

// TestRemindersSentOnceByConcurrentInstances: two gateway instances run
// the job four times each at once; every family due is reminded once, the
// running gateway's outbox sends the reminders, and the metrics count them.
func TestRemindersSentOnceByConcurrentInstances(t *testing.T) {
	g := newSMSGateway(t)
	makeDue(t, g.store)
	registry := prometheus.NewRegistry()
	metrics := gateway.NewMetrics(registry)
	other, err := policystore.Open(context.Background(), g.store.Pool().Config().ConnString(), policystore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	instances := []*gateway.Reminders{
		newReminders(g.store, g.engine, gateway.ReminderOptions{Metrics: metrics}),
		newReminders(other, menus.New(other, menus.Options{}), gateway.ReminderOptions{Metrics: metrics}),
	}
	var (
		mu      sync.Mutex
		reports []gateway.ReminderReport
		wg      sync.WaitGroup
	)
	for i := range 8 {
		wg.Go(func() {
			rep, err := instances[i%2].Run(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			reports = append(reports, rep)
			mu.Unlock()
		})
	}
	wg.Wait()
	queued := 0
	for _, rep := range reports {
		queued += rep.Queued["family"]
	}
	got := reminded(t, g.store, policystore.PurposeReminderFamily)
	if queued != 3 || len(got) != 3 || got[head101203401] == "" || got[head806245517] == "" || got[head604120019] == "" {
		t.Errorf("queued %d; outbox %v; want one reminder to each of the three heads with a phone", queued, got)
	}
	if n := seriesValue(t, registry, series{"imisgw_reminders_queued_total", map[string]string{"kind": "family"}}); n != 3 {
		t.Errorf("imisgw_reminders_queued_total{kind=family} = %v, want 3", n)
	}
	rep, err := instances[0].Run(context.Background())
	if err != nil || !rep.Ran || rep.Queued["family"] != 0 || rep.Already != 3 || rep.Skipped["no_phone"] != 1 || rep.Due != 4 {
		t.Errorf("a later run: %+v, %v; want nothing queued, 3 already reminded, 1 without a phone", rep, err)
	}
	sent := g.sent(head101203401, head806245517, head604120019)
	if text := sent[head604120019][0]; !strings.Contains(text, "FAM01") || !strings.Contains(text, "enrolment officer") {
		t.Errorf("the reminder sent: %q", text)
	}
}

// TestRemindersRespectConsent: a family whose current "tblFamilySMS" row
// says no gets no reminder; one without a row gets one unless
// REMINDER_WITHOUT_CONSENT_ROW=skip; a head without a phone never does.
func TestRemindersRespectConsent(t *testing.T) {
	tests := []struct {
		name        string
		skipNoRow   bool
		want        []string
		wantSkipped map[string]int
	}{
		{"without a row: send", false, []string{head806245517, head604120019}, map[string]int{"no_consent": 1, "no_phone": 1}},
		{"without a row: skip", true, []string{head806245517}, map[string]int{"no_consent": 1, "no_consent_row": 1, "no_phone": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newSMSGateway(t)
			makeDue(t, g.store)
			// Family 1 said no (an older row said yes), family 8 yes,
			// family 6 has no row.
			sqlExec(t, g.store, `INSERT INTO "tblFamilySMS" (familyid, approvalofsms, languageofsms, validityfrom, validityto) VALUES
				(1, false, NULL, now(), NULL), (1, true, NULL, now() - interval '1 year', now() - interval '1 day'),
				(8, true, NULL, now(), NULL)`)
			rep, err := newReminders(g.store, g.engine, gateway.ReminderOptions{SkipWithoutConsentRow: tt.skipNoRow}).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := reminded(t, g.store, policystore.PurposeReminderFamily)
			for _, to := range tt.want {
				if got[to] == "" {
					t.Errorf("no reminder to %s", to)
				}
			}
			if len(got) != len(tt.want) || !maps.Equal(rep.Skipped, tt.wantSkipped) {
				t.Errorf("reminded %v, skipped %v; want %v, skipped %v", slices.Collect(maps.Keys(got)), rep.Skipped, tt.want, tt.wantSkipped)
			}
		})
	}
}

// TestRemindersOnlyWithinTheWindow: the scheduled job queues nothing at
// night, in the scheme's time zone; `reminders run` (Run) does whatever
// the hour.
func TestRemindersOnlyWithinTheWindow(t *testing.T) {
	g := newSMSGateway(t)
	makeDue(t, g.store)
	dar, err := time.LoadLocation("Africa/Dar_es_Salaam") // UTC+3
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(dar)
	tests := []struct {
		name     string
		at       time.Time
		inWindow bool
	}{
		{"before the window", time.Date(today.Year(), today.Month(), today.Day(), 7, 59, 0, 0, dar), false},
		{"at night", time.Date(today.Year(), today.Month(), today.Day(), 20, 0, 0, 0, dar), false},
		{"17:30 UTC is 20:30 in Dar es Salaam", time.Date(today.Year(), today.Month(), today.Day(), 20, 30, 0, 0, dar).UTC(), false},
		{"in the window", time.Date(today.Year(), today.Month(), today.Day(), 9, 0, 0, 0, dar), true},
	}
	for _, tt := range tests {
		r := newReminders(g.store, g.engine, gateway.ReminderOptions{Location: dar, Now: func() time.Time { return tt.at }})
		rep, inWindow, err := r.RunScheduled(context.Background())
		queued := len(reminded(t, g.store, policystore.PurposeReminderFamily))
		if err != nil || inWindow != tt.inWindow || tt.inWindow != (queued == 3) || rep.Queued["family"] != queued {
			t.Errorf("%s: in window %v, %+v, %v; %d queued", tt.name, inWindow, rep, err, queued)
		}
	}
	night := newReminders(g.store, g.engine, gateway.ReminderOptions{Location: dar,
		Now: func() time.Time { return time.Date(today.Year(), today.Month(), today.Day(), 23, 0, 0, 0, dar) }})
	sqlExec(t, g.store, `DELETE FROM imis_gateway.renewal_reminder`)
	sqlExec(t, g.store, `DELETE FROM imis_gateway.outbox`)
	if rep, err := night.Run(context.Background()); err != nil || rep.Queued["family"] != 3 {
		t.Errorf("run at night: %+v, %v; want 3 queued", rep, err)
	}
}

// TestRemindersInTheFamilysLanguage: the language the head's phone chose,
// else the family's "LanguageOfSMS" when the gateway speaks it, else
// DEFAULT_LANGUAGE.
func TestRemindersInTheFamilysLanguage(t *testing.T) {
	g := newSMSGateway(t)
	makeDue(t, g.store)
	if err := g.store.SetLanguage(context.Background(), head101203401, "sw"); err != nil {
		t.Fatal(err)
	}
	sqlExec(t, g.store, `INSERT INTO "tblFamilySMS" (familyid, approvalofsms, languageofsms, validityfrom, validityto) VALUES
		(1, true, 'fr', now(), NULL), (8, true, 'FR', now(), NULL), (6, NULL, 'xx', now(), NULL)`)
	if _, err := newReminders(g.store, g.engine, gateway.ReminderOptions{DefaultLang: "ne"}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := reminded(t, g.store, policystore.PurposeReminderFamily)
	for to, prefix := range map[string]string{head101203401: "Bima ya afya", head806245517: "L'assurance maladie", head604120019: "तपाईंको परिवारको"} {
		if !strings.HasPrefix(got[to], prefix) {
			t.Errorf("to %s: %q, want it to start with %q", to, got[to], prefix)
		}
	}
}

// TestOfficerDigestAndDUE: with REMINDER_OFFICER_DIGEST each officer whose
// area has families due gets their list once a day; DUE answers an officer
// any time with the same list, and refuses anyone else.
func TestOfficerDigestAndDUE(t *testing.T) {
	g := newSMSGateway(t, func(o *menus.Options) { o.Due = gateway.DueFamilies{Store: o.Officers.(*policystore.Store)} })
	makeDue(t, g.store)
	reminders := newReminders(g.store, g.engine, gateway.ReminderOptions{OfficerDigest: true})
	for range 2 {
		if _, err := reminders.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	digests := reminded(t, g.store, policystore.PurposeReminderOfficer)
	// EO001 has the villages of families 1, 8 and 6, EO004 the district of
	// family 6, EO003 the village of 48213's family, whose head has no
	// phone (the officer's list is where that family shows); EO002 none.
	wantDigests := map[string][]string{
		officerEO001: {"3 families due for renewal by ", "\n101203401 FAM01 ", "\n806245517 FAM01 ", "\n604120019 FAM01 "},
		officerEO003: {"1 family due for renewal by ", "\n48213 FAM01 "},
		officerEO004: {"1 family due for renewal by ", "\n604120019 FAM01 "},
	}
	for to, parts := range wantDigests {
		for _, part := range parts {
			if !strings.Contains(digests[to], part) {
				t.Errorf("digest to %s: %q, want %q in it", to, digests[to], part)
			}
		}
	}
	if len(digests) != len(wantDigests) {
		t.Errorf("digests: %q", digests)
	}
	const stranger = "+255754999888"
	g.sms("due-1", officerEO001, "due")
	g.sms("due-2", officerEO002, "DUE")
	g.sms("due-3", stranger, "DUE")
	g.sent(officerEO002, stranger)
	sent := g.sentAtLeast(officerEO001, 2)
	for _, got := range sent[officerEO001] {
		if got != digests[officerEO001] {
			t.Errorf("to EO001: %q, want the digest, then the same as the answer to DUE %q", got, digests[officerEO001])
		}
	}
	if got := sent[officerEO002][0]; !strings.HasPrefix(got, "No family of your area is due for renewal by") {
		t.Errorf("DUE from EO002: %q", got)
	}
	if got := sent[stranger][0]; got != "Only enrolment officers can renew policies." {
		t.Errorf("DUE from someone else: %q", got)
	}
}
