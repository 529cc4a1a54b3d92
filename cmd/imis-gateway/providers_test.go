package main

import (
	"context"
	"net"
	"strings"
	"testing"
)

// The providers' lines of serve --help, which come from the registry, in the
// order and words they always had.
func TestServeHelpListsTheProviders(t *testing.T) {
	out, _, err := runCmd(t, context.Background(), nil, "", "serve", "--help")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"  USSD_PROVIDERS         aggregators to serve: africastalking, hubtel, nalo, arkesel, infobip, beem (default africastalking)",
		"  AT_CALLBACK_TOKEN      secret path segment of Africa's Talking callbacks (required unless --dev)",
		"  <NAME>_CALLBACK_TOKEN  the same for each other provider: HUBTEL_, NALO_, ARKESEL_, INFOBIP_, BEEM_ (required unless --dev)",
		"  <NAME>_SERVICE_CODE    the USSD code a provider serves, for wires that do not send it (NALO_, ARKESEL_, BEEM_)",
		"  <NAME>_ALLOW_FROM      optional comma-separated CIDR allow-list of a provider's callers (AT_ALLOW_FROM, ...)",
		"  TRUSTED_PROXIES        comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed",
		`  AT_USERNAME, AT_API_KEY Africa's Talking credentials for sending SMS ("sandbox" selects the sandbox); unset: SMS stay queued`,
		"  AT_SENDER_ID           registered sender id or short code for outgoing SMS (default: AT's shared sender)",
		"  AT_API_URL             Africa's Talking API base URL (default: the live or sandbox endpoint)",
		"  <NAME>_SCREEN_BUDGET   longest screen of a provider as GSM7/UCS2 characters, e.g. 120/70 (NALO_ default)",
		"  TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN Twilio account for SMS (inbound webhooks are verified with the auth token)",
		"  TWILIO_FROM            Twilio number or Messaging Service SID (MG...) replies are sent from",
		"  TWILIO_PUBLIC_URL      public base URL Twilio calls (signatures cover it), e.g. https://gw.example.org",
		"  TWILIO_CALLBACK_TOKEN  secret path segment of the Twilio webhooks (required with Twilio unless --dev)",
		"  GATEWAY_AUDIT_USER_ID  \"AuditUserID\" written on openIMIS rows: a tblUsers UserID created for the gateway (default -1)",
	}
	at := 0
	for _, line := range strings.Split(out, "\n") {
		if at < len(want) && line == want[at] {
			at++
		}
	}
	if at < len(want) {
		t.Errorf("serve --help lacks, or misplaces, %q:\n%s", want[at], out)
	}
}

// The banner lists every enabled USSD provider's callback URL, with the
// notes and the example hop its package gives.
func TestBannerListsTheEnabledProviders(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "postgres:///x", "REDIS_URL": "redis://localhost",
		"USSD_PROVIDERS": "africastalking,hubtel,nalo,arkesel,infobip,beem"}
	cfg, err := loadServeConfig(envOf(vars), true, "")
	if err != nil {
		t.Fatal(err)
	}
	var out output
	printBanner(&environment{stdout: &out}, &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, cfg)
	const want = `imis-gateway is serving on http://localhost:8080

Callback URLs (set them in each aggregator's dashboard, behind HTTPS):
  africastalking  http://localhost:8080/ussd/africastalking/dev   (events: http://localhost:8080/ussd/africastalking/dev/events)
  hubtel          http://localhost:8080/ussd/hubtel/dev
  nalo            http://localhost:8080/ussd/nalo/dev
  arkesel         http://localhost:8080/ussd/arkesel/dev
  infobip         http://localhost:8080/ussd/infobip/dev   (Infobip adds /session/{id}/start|response|end)
  beem            http://localhost:8080/ussd/beem/dev

Try a hop:
  curl -s -d sessionId=demo-1 -d serviceCode='*384*1234#' --data-urlencode phoneNumber=+255712111222 -d text= http://localhost:8080/ussd/africastalking/dev

Or dial it like a phone:  imis-gateway sim --url http://localhost:8080
In a browser:             http://localhost:8080/simulator

`
	if out.String() != want {
		t.Errorf("banner\n%s\nwant\n%s", out.String(), want)
	}

	// Without --dev the URLs name the variable to set, and only the enabled
	// providers show.
	vars["USSD_PROVIDERS"], vars["HUBTEL_CALLBACK_TOKEN"] = "hubtel", "h"
	if cfg, err = loadServeConfig(envOf(vars), false, ""); err != nil {
		t.Fatal(err)
	}
	out = output{}
	printBanner(&environment{stdout: &out}, &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, cfg)
	if s := out.String(); !strings.Contains(s, "  hubtel          http://localhost:8080/ussd/hubtel/<HUBTEL_CALLBACK_TOKEN>\n") ||
		strings.Contains(s, "africastalking") || strings.Contains(s, "Try a hop") {
		t.Errorf("banner:\n%s", s)
	}
}

// Twilio, which has no USSD, is enabled by its own variables: its callbacks
// get their token, and the outbox a sender for it.
func TestServeReadsTwilio(t *testing.T) {
	vars := withSecrets(map[string]string{"DATABASE_URL": "postgres:///x", "REDIS_URL": "redis://localhost"})
	cfg, err := loadServeConfig(envOf(vars), false, "")
	if err != nil {
		t.Fatal(err)
	}
	tw := cfg.providers["twilio"]
	if tw.Token != serveSecrets["TWILIO_CALLBACK_TOKEN"] || tw.Signature == nil || tw.Signature.Problem != nil {
		t.Errorf("twilio callbacks %+v", tw)
	}
	if cfg.senders["twilio"] == nil || cfg.senders["africastalking"] == nil || len(cfg.sendWarnings) != 0 {
		t.Errorf("senders %v, warnings %q", cfg.senders, cfg.sendWarnings)
	}
	delete(vars, "TWILIO_FROM")
	if _, err := loadServeConfig(envOf(vars), false, ""); err == nil || !strings.Contains(err.Error(), "Twilio is partly configured; also set TWILIO_FROM") {
		t.Errorf("partly configured: %v", err)
	}
}
