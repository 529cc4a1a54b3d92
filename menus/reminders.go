package menus

import (
	"context"
	"fmt"
	"time"

	"github.com/openimis/imis-gateway/openimis"
)

// Renewal reminders (README.md, "Renewal reminders"): the texts the
// reminders job queues, and the officer's list of families due, which SMS
// DUE answers and the officer's daily SMS carries. The job itself, which
// decides who gets what, is gateway.Reminders.

// ReminderSMS words the reminder to the head of a family whose policy ends
// soon, in lang: the product, the policy's last day (q.PreviousExpiry),
// the amount due and how to renew, laid out for one SMS part in the GSM-7
// languages.
func (e *Engine) ReminderSMS(lang string, q openimis.RenewalQuote) string {
	c := e.newCall(context.Background(), Caller{Budget: smsBudget}, lang)
	text, _, _ := c.fit.encode(c.t(msgReminderFamily, vars{
		"Product": shownCode(q.ProductCode), "Expiry": c.date(q.PreviousExpiry), "Due": c.money(q.Value),
	}))
	return text
}

// DueSMS words an officer's list of the families due by until, in lang:
// as many as one SMS part holds, then how many more there are.
func (e *Engine) DueSMS(lang string, due []openimis.PolicyDue, until time.Time) string {
	c := e.newCall(context.Background(), Caller{Budget: smsBudget}, lang)
	text, _, _ := c.fit.encode(c.dueList(due, until))
	return text
}

func (c *call) dueList(due []openimis.PolicyDue, until time.Time) string {
	if len(due) == 0 {
		return c.t(msgReminderDueNone, vars{"Until": c.date(until)})
	}
	head := c.tn(msgReminderDue, len(due), vars{"Until": c.date(until)})
	line := func(i int) string {
		d := due[i]
		return c.t(msgReminderDueLine, vars{"Number": truncate(clean(d.HeadCHFID), shownCHFIDMax),
			"Product": shownCode(d.ProductCode), "Expiry": c.date(d.Expiry)})
	}
	more := func(n int) string { return c.tn(msgMore, n, nil) }
	return c.fit.fitLines(head, len(due), line, more)
}

// smsDue is DUE, from an officer's phone (SMS checked that): the families
// of the officer's area due for renewal.
func (e *Engine) smsDue(c *call, _ []string) (string, error) {
	officer, _ := c.officerRecord()
	due, until, err := e.opt.Due.FamiliesDue(c.ctx, officer, e.today())
	if err != nil {
		return "", fmt.Errorf("families due: %w", err)
	}
	return c.dueList(due, until), nil
}
