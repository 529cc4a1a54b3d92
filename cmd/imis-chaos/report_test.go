package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A small clean run: one USSD renewal and one SMS renewal, confirmed and
// written once, the SMS answered once, every hop quick.
func cleanRun() checkInput {
	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	reply := outboxRow{recipient: "+255655000001", body: "Policy renewed: idle until paid in full", status: "sent"}
	return checkInput{
		hops: []hopRecord{
			{kind: kindRenewal, start: t0, took: 20 * time.Millisecond, outcome: hopOK},
			{kind: kindSMSRenew, start: t0.Add(time.Second), took: 5 * time.Millisecond, outcome: hopOK},
		},
		sessions: []sessionRecord{{kind: kindRenewal, provider: "hubtel", start: t0, end: t0.Add(time.Second), result: resultOK}},
		renewals: []renewalAttempt{
			{channel: "USSD", chfid: "1000000000", receipt: "CX1-1", confirmed: true},
			{channel: "SMS", chfid: "1000000001", receipt: "CX1-2", smsID: "sms-1"},
		},
		sms:   []inboundSMS{{id: "sms-1", accepted: true}},
		start: t0, end: t0.Add(time.Minute), deadline: 10 * time.Second, hopDeadline: 5 * time.Second, drained: true,
		facts: facts{
			premiumsByReceipt: map[string]int{"CX1-1": 1, "CX1-2": 1},
			renewals:          []renewalRow{{receipt: "CX1-1", familyID: 1}, {receipt: "CX1-2", familyID: 2}},
			renewalPolicies:   map[int]int{1: 1, 2: 1},
			inbound:           map[string]inboundRow{"sms-1": {status: "processed", outcome: "replied"}},
			replies:           map[string][]outboxRow{"sms-1": {reply}},
			outbox:            []outboxRow{reply},
			sent:              []sentSMS{{to: reply.recipient, message: reply.body}},
		},
	}
}

func TestCheck(t *testing.T) {
	kill := fault{name: "gateway 2 SIGKILL", at: time.Date(2026, 12, 5, 8, 0, 30, 0, time.UTC), cutsAnswers: true}
	kill.restored = kill.at.Add(3 * time.Second)
	for _, tc := range []struct {
		name   string
		change func(*checkInput)
		want   string // in a violation; "" for none
	}{
		{"clean", func(*checkInput) {}, ""},
		{"receipt on two premiums", func(in *checkInput) { in.facts.premiumsByReceipt["CX1-1"] = 2 }, "receipt CX1-1 is on 2 premiums"},
		{"family renewed twice", func(in *checkInput) {
			in.facts.renewals = append(in.facts.renewals, renewalRow{receipt: "CX1-3", familyID: 1})
			in.facts.renewalPolicies[1] = 2
		}, "family 1 was renewed 2 times"},
		{"policy without a renewal", func(in *checkInput) { in.facts.renewalPolicies[3] = 1 }, "family 3 has 1 renewal policies the gateway did not record"},
		{"confirmed on screen, not written", func(in *checkInput) {
			in.facts.renewals, in.facts.renewalPolicies = in.facts.renewals[1:], map[int]int{2: 1}
		}, "USSD renewal of 1000000000 with receipt CX1-1 was confirmed"},
		{"confirmed by SMS, not written", func(in *checkInput) {
			in.facts.renewals, in.facts.renewalPolicies = in.facts.renewals[:1], map[int]int{1: 1}
		}, "SMS renewal of 1000000001 with receipt CX1-2 was confirmed"},
		{"written without a confirmation seen", func(in *checkInput) { in.renewals[0].confirmed = false }, ""},
		{"SMS taken, never processed", func(in *checkInput) { in.facts.inbound["sms-1"] = inboundRow{status: "received"} }, "SMS sms-1 is received"},
		{"SMS answered twice", func(in *checkInput) {
			in.facts.replies["sms-1"] = append(in.facts.replies["sms-1"], in.facts.replies["sms-1"][0])
		}, "SMS sms-1 has 2 replies"},
		{"reply sent twice", func(in *checkInput) { in.facts.sent = append(in.facts.sent, in.facts.sent[0]) }, "sent 2 times"},
		{"sent, then forgotten by the database", func(in *checkInput) { in.facts.outbox = nil }, "the outbox has no such message"},
		{"reply lost with the instance sending it", func(in *checkInput) {
			in.facts.replies["sms-1"][0].status, in.facts.sent = "unknown", nil
		}, ""},
		{"hop over the deadline", func(in *checkInput) { in.hops[0].took = 11 * time.Second }, "1 requests answered after the aggregator's deadline"},
		{"hop cut while its instance was killed", func(in *checkInput) {
			in.faults = []fault{kill}
			in.hops = append(in.hops, hopRecord{kind: kindClaims, start: kill.at.Add(-time.Second), took: 2 * time.Second, outcome: hopCut})
		}, ""},
		{"hop cut otherwise", func(in *checkInput) {
			in.hops = append(in.hops, hopRecord{kind: kindClaims, start: kill.at.Add(time.Minute), outcome: hopCut})
		}, "1 requests got no answer"},
		{"SMS webhook 503 during an outage", func(in *checkInput) {
			in.hops = append(in.hops, hopRecord{kind: kindSMSCheck, start: kill.at, outcome: hopBadStatus})
		}, ""},
		{"queues not drained", func(in *checkInput) { in.drained = false }, "did not drain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cleanRun()
			tc.change(&in)
			got := check(in).violations
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("violations %q, want none", got)
			case tc.want != "" && !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, tc.want) }):
				t.Errorf("violations %q, want one saying %q", got, tc.want)
			}
		})
	}
}
