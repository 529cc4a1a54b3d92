package policystore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/openimis"
	"github.com/openimis/imis-gateway/policystore"
)

// expireIn moves the expiry of the current policies numbered (by
// "PolicyID") to today + days, making them due for a reminder.
func expireIn(t testing.TB, s *policystore.Store, days int, policyIDs ...int) {
	t.Helper()
	_, err := s.Pool().Exec(context.Background(), `UPDATE "tblPolicy" SET "ExpiryDate" = $1 WHERE "PolicyID" = ANY ($2)`,
		today.AddDate(0, 0, days), policyIDs)
	if err != nil {
		t.Fatal(err)
	}
}

func exec(t testing.TB, s *policystore.Store, sql string, args ...any) {
	t.Helper()
	if _, err := s.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestRenewalInterval(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	exec(t, s, `CREATE TABLE "core_ModuleConfiguration" (id uuid PRIMARY KEY, module varchar(20) NOT NULL,
		layer varchar(2) NOT NULL, version varchar(10) NOT NULL, config text NOT NULL, is_exposed boolean NOT NULL DEFAULT false,
		is_disabled_until timestamptz)`)
	tests := []struct {
		name         string
		imisDefaults any    // "PolicyRenewalInterval"
		config       string // the policy module's configuration; "" for no row
		disabled     bool
		days         int
		source       string
	}{
		{"the dump's default", 14, "", false, 14, policystore.IntervalFromIMISDefaults},
		{"tblIMISDefaults", 30, "", false, 30, policystore.IntervalFromIMISDefaults},
		{"nothing set", nil, "", false, 14, policystore.IntervalFromDefault},
		{"zero is unset", 0, "", false, 14, policystore.IntervalFromDefault},
		{"the module's override", 30, `{"policy_renewal_interval": 21, "policy_location_via": "family"}`, false, 21, policystore.IntervalFromModuleConfiguration},
		{"a string of digits", 30, `{"policy_renewal_interval": "7"}`, false, 7, policystore.IntervalFromModuleConfiguration},
		{"a disabled override", 30, `{"policy_renewal_interval": 21}`, true, 30, policystore.IntervalFromIMISDefaults},
		{"another key", 30, `{"activation_option": 3}`, false, 30, policystore.IntervalFromIMISDefaults},
		{"no JSON", nil, `policy_renewal_interval=21`, false, 14, policystore.IntervalFromDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec(t, s, `UPDATE "tblIMISDefaults" SET "PolicyRenewalInterval" = $1`, tt.imisDefaults)
			exec(t, s, `DELETE FROM "core_ModuleConfiguration"`)
			if tt.config != "" {
				var until *time.Time
				if tt.disabled {
					future := time.Now().Add(time.Hour)
					until = &future
				}
				exec(t, s, `INSERT INTO "core_ModuleConfiguration" VALUES (gen_random_uuid(), 'policy', 'be', '1', $1, false, $2)`, tt.config, until)
			}
			days, source, err := s.RenewalInterval(context.Background())
			if err != nil || days != tt.days || source != tt.source {
				t.Errorf("RenewalInterval = %d, %s, %v; want %d, %s", days, source, err, tt.days, tt.source)
			}
		})
	}
}

// TestPoliciesDue: current Active policies expiring within the interval,
// not renewed yet, with their head and consent, on both schemas.
func TestPoliciesDue(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			s := seededStore(t, flavor)
			// 101203401 (1) and 806245517 (9) in 5 days, 48213 (15) in 20;
			// 20461301 (2) expired, 202405170001 (13) is Ready, not Active.
			expireIn(t, s, 5, 1, 9)
			expireIn(t, s, 20, 15)
			// Consent: refused for 101203401's family, given for
			// 806245517's; a history row saying otherwise is ignored.
			exec(t, s, `INSERT INTO "tblFamilySMS" (familyid, approvalofsms, languageofsms, validityfrom, validityto) VALUES
				(1, false, 'sw', now(), NULL), (1, true, 'en', now() - interval '1 year', now() - interval '1 day'),
				(8, true, NULL, now(), NULL)`)
			tests := []struct {
				name      string
				days      int
				area      []int
				policies  []int
				consent   []openimis.Consent
				languages []string
			}{
				{"within 14 days", 14, nil, []int{1, 9, 6}, []openimis.Consent{openimis.ConsentRefused, openimis.ConsentGiven, openimis.ConsentNoRow}, []string{"sw", "", ""}},
				{"within 30 days", 30, nil, []int{1, 9, 6, 15}, nil, nil},
				{"today only", 0, nil, nil, nil, nil},
				{"in an area", 30, []int{10, 13}, []int{6, 15}, nil, nil},
				{"in an empty area", 30, []int{}, nil, nil, nil},
			}
			for _, tt := range tests {
				due, err := s.PoliciesDue(context.Background(), today, today.AddDate(0, 0, tt.days), tt.area, true)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int
				var consent []openimis.Consent
				var languages []string
				for _, d := range due {
					ids, consent, languages = append(ids, d.PolicyID), append(consent, d.Consent), append(languages, d.SMSLanguage)
				}
				if !slices.Equal(ids, tt.policies) || tt.consent != nil && !slices.Equal(consent, tt.consent) ||
					tt.languages != nil && !slices.Equal(languages, tt.languages) {
					t.Errorf("%s: policies %v consent %v languages %q; want %v %v %q", tt.name, ids, consent, languages, tt.policies, tt.consent, tt.languages)
				}
			}
			due, _ := s.PoliciesDue(context.Background(), today, today.AddDate(0, 0, 14), nil, true)
			want := openimis.PolicyDue{PolicyID: 1, FamilyID: 1, Location: 4, ProductCode: "FAM01", Expiry: today.AddDate(0, 0, 5),
				HeadCHFID: "101203401", HeadName: "Juma Hassan Mrisho", HeadPhone: "0712 111 222", Consent: openimis.ConsentRefused, SMSLanguage: "sw"}
			if len(due) == 0 || due[0] != want {
				t.Errorf("first due = %+v\nwant %+v", due[0], want)
			}
		})
	}
}

// TestPoliciesDueLeavesRenewedOnesOut: a policy renewed (a later policy of
// the product) is due no more; without "tblFamilySMS" no consent is kept.
func TestPoliciesDueLeavesRenewedOnesOut(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	q, err := quote(t, s, "604120019", "", today)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Renew(context.Background(), request("604120019", "R-1", int64(q.Value)/100, "k1")); err != nil {
		t.Fatal(err)
	}
	exec(t, s, `DROP TABLE "tblFamilySMS"`)
	expireIn(t, s, 3, 1)
	due, err := s.PoliciesDue(context.Background(), today, today.AddDate(0, 0, 14), nil, true)
	if err != nil || len(due) != 1 || due[0].PolicyID != 1 || due[0].Consent != openimis.ConsentNotKept {
		t.Errorf("due = %+v, %v; want policy 1 alone, consent not kept", due, err)
	}
}

func TestRenewalDue(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	q, err := s.RenewalDue(context.Background(), "604120019", "FAM01", today)
	want, _ := quote(t, s, "604120019", "FAM01", today)
	if err != nil || q.Value != want.Value || q.Value == 0 || !q.PreviousExpiry.Equal(d(2025, time.March, 19)) {
		t.Errorf("RenewalDue = %+v, %v; want the officer's quote %+v", q, err, want)
	}
	var refusal *openimis.RefusalError
	if _, err := s.RenewalDue(context.Background(), "907712214", "", today); !errors.As(err, &refusal) {
		t.Errorf("a family without a policy: %v, want a refusal", err)
	}
}

// TestQueueReminderOnce: the same reminder queued by many at once is
// recorded and queued once; another policy, expiry or day is another one.
func TestQueueReminderOnce(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	family := policystore.Reminder{PolicyID: 6, Expiry: today.AddDate(0, 0, 9), FamilyID: 6,
		Provider: "africastalking", Recipient: "+255754100200", Lang: "en", Body: "Your policy expires soon."}
	digest := policystore.Reminder{OfficerID: 1, Day: today, Provider: "africastalking", Recipient: "+255712345678", Lang: "sw", Body: "Familia 1"}
	var queued sync.Map
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			r := family
			if i%2 == 1 {
				r = digest
			}
			ok, err := s.QueueReminder(context.Background(), r)
			if err != nil {
				t.Error(err)
			}
			if ok {
				n, _ := queued.LoadOrStore(r.OfficerID, new(int))
				*n.(*int)++
			}
		})
	}
	wg.Wait()
	queued.Range(func(k, v any) bool {
		if *v.(*int) != 1 {
			t.Errorf("officer %v: queued %d times", k, *v.(*int))
		}
		return true
	})
	later := family
	later.Expiry = later.Expiry.AddDate(1, 0, 0)
	nextDay := digest
	nextDay.Day = today.AddDate(0, 0, 1)
	for _, r := range []policystore.Reminder{later, nextDay} {
		if ok, err := s.QueueReminder(context.Background(), r); !ok || err != nil {
			t.Errorf("%+v: %v %v, want queued", r, ok, err)
		}
	}
	var reminders, outbox int
	err := s.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM imis_gateway.renewal_reminder),
		(SELECT count(*) FROM imis_gateway.outbox o JOIN imis_gateway.renewal_reminder r ON o.dedup_key = 'reminder:' || r.id
		 WHERE o.purpose IN ('reminder.family', 'reminder.officer') AND o.recipient = r.recipient)`).Scan(&reminders, &outbox)
	if err != nil || reminders != 4 || outbox != 4 {
		t.Errorf("%d reminders, %d SMS (%v); want 4 of each", reminders, outbox, err)
	}
}

// TestWithJobLock: one session at a time runs the job; the lock is free
// again when it returns, even with its context cancelled.
func TestWithJobLock(t *testing.T) {
	s := seededStore(t, migrations.FlavorDjango)
	other := openStore(t, s.Pool().Config().ConnString(), policystore.Options{})
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := s.WithJobLock(context.Background(), "reminders", func(context.Context) error {
			close(inside)
			<-release
			return fmt.Errorf("job failed")
		})
		done <- err
	}()
	<-inside
	ran, err := other.WithJobLock(context.Background(), "reminders", func(context.Context) error { return nil })
	if ran || err != nil {
		t.Errorf("while held: ran %v, %v; want not run", ran, err)
	}
	if ran, err := other.WithJobLock(context.Background(), "another job", func(context.Context) error { return nil }); !ran || err != nil {
		t.Errorf("another job: ran %v, %v", ran, err)
	}
	close(release)
	if err := <-done; err == nil || err.Error() != "job failed" {
		t.Errorf("the job's error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if ran, _ := other.WithJobLock(ctx, "reminders", func(context.Context) error { cancel(); return nil }); !ran {
		t.Error("after release: not run")
	}
	if ran, err := s.WithJobLock(context.Background(), "reminders", func(context.Context) error { return nil }); !ran || err != nil {
		t.Errorf("after a cancelled run: ran %v, %v", ran, err)
	}
}
