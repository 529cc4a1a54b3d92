package gateway_test

import (
	"context"
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

// makeDue moves the expiry of the demo policies 1, 9 and 15 to five days
// from today, next to policy 6's nine.
func makeDue(t *testing.T, store *policystore.Store) {
	t.Helper()
	_, err := store.Pool().Exec(context.Background(), `UPDATE "tblPolicy" SET "ExpiryDate" = $1 WHERE "PolicyID" IN (1, 9, 15)`,
		openimis.DateOf(time.Now()).AddDate(0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
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

