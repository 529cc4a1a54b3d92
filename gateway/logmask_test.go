package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/africastalking/attest"
	"github.com/openimis/imis-gateway/providers/twilio"
	"github.com/openimis/imis-gateway/providers/twilio/twiliotest"
)

// A caller's USSD session, their SMS, its reply and the reply's delivery
// report, through the whole gateway logging JSON at debug level, from an
// international and a national number: no log line shows four digits in a
// row of the caller's number, so at most its last three.
func TestLogsShowNoMoreOfAPhoneThanItsLastThreeDigits(t *testing.T) {
	callers := []string{"+255712111222", "0712111222"} // the head of family 101203401, both ways
	var logs smsLogBuffer
	g := newSMSGatewayLogging(t, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug,
		// The clock's nanoseconds are digits like any others.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		}})))

	for i, caller := range callers {
		session := fmt.Sprintf("ATUid_privacy%d", i)
		mustCON(t, g.hop(session, caller, ""))
		mustCON(t, g.hop(session, caller, "1"))
		if screen := mustEND(t, g.hop(session, caller, "1*101203401")); !strings.Contains(screen, "Juma Hassan Mrisho") {
			t.Fatalf("membership from %s: %q", caller, screen)
		}
		mustCON(t, g.hop(session+"c", caller, "2*101203401"))

		g.sms(fmt.Sprintf("privacy-sms-%d", i), caller, "CHECK 101203401")
		if sent := g.sent(caller); !strings.Contains(sent[caller][0], "Juma Hassan Mrisho") {
			t.Fatalf("reply to %s: %q", caller, sent[caller])
		}
		report := url.Values{"id": {attest.MessageID(i + 1)}, "status": {"Success"}, "phoneNumber": {caller}, "networkCode": {"64004"}}
		if r := g.post("/sms/africastalking/"+token+"/delivery", "application/x-www-form-urlencoded", report.Encode()); r.status != http.StatusOK {
			t.Fatalf("delivery report: %d %q", r.status, r.body)
		}
	}

	for line := range strings.Lines(logs.String()) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("not a JSON log line: %q", line)
		}
		for _, s := range logStrings(entry) {
			for _, caller := range callers {
				if run, ok := phoneRun(s, caller); ok {
					t.Errorf("%q of the caller's number in %s", run, line)
				}
			}
		}
	}
	for _, want := range []string{`"msg":"hop"`, `"msg":"inbound sms received"`, `"msg":"sms answered"`, `"msg":"sms sent"`,
		`"msg":"delivery report"`, `"+*********222"`, `"*******222"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in the logs: the test would prove nothing\n%s", want, logs.String())
		}
	}
}

// logStrings is every string value in a decoded log line, however nested.
func logStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case map[string]any:
		var out []string
		for _, x := range v {
			out = append(out, logStrings(x)...)
		}
		return out
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, logStrings(x)...)
		}
		return out
	}
	return nil
}

// phoneRun finds in s four digits in a row of phone's.
func phoneRun(s, phone string) (string, bool) {
	digits := strings.TrimPrefix(phone, "+")
	for i := 0; i+4 <= len(digits); i++ {
		if strings.Contains(s, digits[i:i+4]) {
			return digits[i : i+4], true
		}
	}
	return "", false
}

// Providers' answers quote the account and the credentials (Twilio's 404
// names the account's path, a proxy's page anything), transport errors the
// request URL; none of it reaches imis_gateway.outbox or the logs.
func TestOutboxStoresAndLogsNoProviderSecret(t *testing.T) {
	const atKey = "atsk_0c9b8a7f6e5d4c3b2a1908f7e6d5c4b3"
	path := twiliotest.MessagesPath(twAccount)
	twEcho := "POST " + path + " as " + twAccount + ":" + twToken + " To=" + twPhone
	atEcho := "apiKey=" + atKey + " to=" + twPhone
	s := smsStore(t)
	var logs smsLogBuffer
	opts := smsFastOutbox()
	opts.MaxAttempts = 2

	// Twilio unreachable: the transport error would quote the URL.
	unreachable := twiliotest.New(t)
	unreachable.Close()
	ids := []int64{smsEnqueue(t, s, twilio.Name, twPhone, "nothing listens")}
	stop := smsRun(t, gateway.NewOutboxWorker(s, twSenders(twClient(unreachable, "")), opts, logs.logger()).Run)
	smsEventually(t, "the message failed", smsStatusIs(t, s, ids[0], "failed"))
	stop()

	tw := twiliotest.New(t)
	tw.Enqueue(
		twiliotest.Error(http.StatusNotFound, 20404, "The requested resource "+path+" was not found"),
		twiliotest.Response{Status: http.StatusBadGateway, ContentType: "text/html", Body: "<pre>" + twEcho + "</pre>"},
		twiliotest.Hangup())
	at := attest.New(t)
	at.Enqueue(
		attest.Response{Status: http.StatusUnauthorized, ContentType: "text/plain", Body: "Invalid " + atEcho},
		attest.Response{Status: http.StatusServiceUnavailable, ContentType: "text/plain", Body: atEcho},
		attest.SendAnswer(http.StatusCreated, "Rejected "+atEcho))
	senders := twSenders(twClient(tw, ""))
	senders[africastalking.Name] = africastalking.NewSMSClient(africastalking.SMSConfig{
		Username: "imis", APIKey: atKey, BaseURL: at.URL})
	for _, provider := range []string{twilio.Name, africastalking.Name} {
		for _, body := range []string{"first", "second", "third"} {
			ids = append(ids, smsEnqueue(t, s, provider, twPhone, body))
		}
	}
	smsRun(t, gateway.NewOutboxWorker(s, senders, opts, logs.logger()).Run)
	smsEventually(t, "every message settled", func() bool {
		return smsCount(t, s, `SELECT count(*) FROM imis_gateway.outbox WHERE status IN ('queued', 'sending')`) == 0
	})

	rows, err := s.Pool().Query(context.Background(), `
		SELECT status, coalesce(provider_status, '') || ' ' || coalesce(failure_reason, '') FROM imis_gateway.outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	failed := 0
	for rows.Next() {
		var status, stored string
		if err := rows.Scan(&status, &stored); err != nil {
			t.Fatal(err)
		}
		if status != "sent" {
			failed++
		}
		for _, secret := range []string{twAccount, twToken, atKey, twPhone} {
			if strings.Contains(stored, secret) {
				t.Errorf("outbox row (%s) stores %q: %s", status, secret, stored)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if failed < 4 {
		t.Errorf("%d messages failed or unknown; the answers above should fail at least 4", failed)
	}
	for line := range strings.Lines(logs.String()) {
		for _, secret := range []string{twAccount, twToken, atKey, twPhone} {
			if strings.Contains(line, secret) {
				t.Errorf("log line shows %q: %s", secret, line)
			}
		}
	}
}
