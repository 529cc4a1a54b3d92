package gateway_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/providers/registry"
)

// The demo's family head, who sees his own name.
const (
	headPhone  = "+255712111222"
	headCHFID  = "101203401"
	headName   = "Juma Hassan Mrisho"
	demoCode   = "*384*1234#"
	mainMenuEn = "Health insurance\n1. Check membership\n2. Claim status\n3. Language"
)

// devToken is every provider's callback token in serve --dev, which the
// screenshots show.
const devToken = "dev"

// newSimulatorGateway serves the whole gateway as serve --dev wires it, with
// the simulator's development endpoints.
func newSimulatorGateway(t *testing.T) *smsGateway {
	t.Helper()
	g := newSMSGateway(t)
	deps := g.deps
	deps.SMS = &gateway.SMSDeps{Store: g.store, Wake: g.deps.SMS.Wake, Outbox: g.store}
	deps.Registry = nil // the first server registered the gateway's metrics
	providers := allProviders()
	for name, pc := range providers {
		pc.Token = devToken
		providers[name] = pc
	}
	g.Server = httptest.NewServer(gateway.NewServer(deps, gateway.Config{Providers: providers,
		Simulator: true, SimulatorDev: true}))
	t.Cleanup(g.Server.Close)
	return g
}

// simulatorAnswer is what /simulator/hop answers the page.
type simulatorAnswer struct {
	Screen string
	End    bool
	Error  string
	Sent   struct{ Method, Path, ContentType, Body string }
	Reply  struct {
		Status            int
		ContentType, Body string
	}
}

// simulatorPost posts v as the page does and decodes the answer into out
// (nil: none), failing t unless the status is want.
func simulatorPost(t *testing.T, base, path string, v, out any, want int) {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %s, want %d", path, resp.Status, want)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

func simulatorGet(t *testing.T, base, path string, out any) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// TestSimulatorRelaysEveryWire walks each provider's wire through the relay
// the page uses, as the page keeps the call (providers.Call), to the head's
// membership answer, and hangs up.
func TestSimulatorRelaysEveryWire(t *testing.T) {
	g := newSimulatorGateway(t)
	for _, name := range registry.Names(registry.USSD()) {
		t.Run(name, func(t *testing.T) {
			call := map[string]any{"provider": name, "token": devToken, "session": "web-" + name, "phone": headPhone,
				"code": demoCode, "seq": 1, "start": true, "input": demoCode, "transcript": ""}
			var a simulatorAnswer
			simulatorPost(t, g.URL, "/simulator/hop", call, &a, http.StatusOK)
			if a.Screen != mainMenuEn || a.End || a.Error != "" || a.Reply.Status != http.StatusOK ||
				!strings.HasPrefix(a.Sent.Path, "/ussd/"+name+"/"+devToken) || a.Sent.Body == "" {
				t.Fatalf("dial: %+v", a)
			}
			transcript := ""
			for seq, input := range []string{"1", headCHFID} {
				transcript = strings.TrimPrefix(transcript+"*"+input, "*")
				call["seq"], call["start"], call["input"], call["transcript"] = seq+2, false, input, transcript
				simulatorPost(t, g.URL, "/simulator/hop", call, &a, http.StatusOK)
			}
			if !a.End || !strings.HasPrefix(a.Screen, headName+"\nNo. "+headCHFID+"\n") {
				t.Fatalf("membership answer: %+v", a)
			}
			call["hangup"], call["seq"] = true, 4
			simulatorPost(t, g.URL, "/simulator/hop", call, &a, http.StatusOK)
			if !a.End || a.Error != "" {
				t.Fatalf("hang-up: %+v", a)
			}
		})
	}
}

// TestSimulatorRelayRefuses: the relay goes through the provider's callback,
// token check included, and takes only JSON, which another site's form
// cannot send.
func TestSimulatorRelayRefuses(t *testing.T) {
	g := newSimulatorGateway(t)
	call := map[string]any{"provider": "hubtel", "token": "wrong", "session": "web-1", "phone": headPhone,
		"code": demoCode, "seq": 1, "start": true, "input": demoCode}
	var a simulatorAnswer
	simulatorPost(t, g.URL, "/simulator/hop", call, &a, http.StatusOK)
	if !a.End || !strings.Contains(a.Error, "404") || a.Reply.Status != http.StatusNotFound {
		t.Errorf("wrong token: %+v", a)
	}
	call["provider"] = "twilio" // no USSD
	simulatorPost(t, g.URL, "/simulator/hop", call, nil, http.StatusBadRequest)
	for _, contentType := range []string{"application/x-www-form-urlencoded", "text/plain"} {
		resp, err := http.Post(g.URL+"/simulator/sms", contentType, strings.NewReader(`{"phone":"+255712111222","text":"HELP"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s: %s", contentType, resp.Status)
		}
	}
}

// TestSimulatorLanguageAndSMS: the language picker remembers the phone's
// language, and the SMS pane's CHECK gets its reply, in that language, from
// the outbox.
func TestSimulatorLanguageAndSMS(t *testing.T) {
	g := newSimulatorGateway(t)
	phone := url.QueryEscape(headPhone)
	var lang struct{ Lang string }
	simulatorGet(t, g.URL, "/simulator/language?phone="+phone, &lang)
	if lang.Lang != "en" {
		t.Errorf("language before: %q", lang.Lang)
	}
	simulatorPost(t, g.URL, "/simulator/language", map[string]string{"phone": headPhone, "lang": "xx"}, nil, http.StatusBadRequest)
	simulatorPost(t, g.URL, "/simulator/language", map[string]string{"phone": headPhone, "lang": "fr"}, nil, http.StatusOK)
	simulatorGet(t, g.URL, "/simulator/language?phone="+phone, &lang)
	if lang.Lang != "fr" {
		t.Errorf("language after: %q", lang.Lang)
	}

	simulatorPost(t, g.URL, "/simulator/sms", map[string]string{"phone": headPhone, "text": "CHECK " + headCHFID}, nil, http.StatusOK)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var messages []struct{ Body, Purpose, Status string }
		simulatorGet(t, g.URL, "/simulator/outbox?phone="+phone, &messages)
		if len(messages) == 1 && strings.Contains(messages[0].Body, headName) {
			if !strings.Contains(messages[0].Body, "couverture") || messages[0].Purpose != "sms.reply" {
				t.Errorf("reply %+v", messages[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reply in the outbox: %+v", messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
