package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/openimis/imis-gateway/internal/browsertest"
	"github.com/openimis/imis-gateway/providers/registry"
)

// The screenshots README.md shows ("Try it like a phone"), rewritten with
// UPDATE_SCREENSHOTS=1.
const (
	screenshotPhone    = "../docs/img/simulator.png"
	screenshotLanguage = "../docs/img/simulator-language.png"
	screenshotSMS      = "../docs/img/simulator-sms.png"
)

// The main menu's title in each language, to see which one a dial got, and
// the languages' names in the picker.
var (
	mainTitles    = map[string]string{"en": "Health insurance", "fr": "Assurance maladie", "sw": "Bima ya Afya", "ne": "स्वास्थ्य बीमा"}
	languageNames = map[string]string{"en": "English", "fr": "Français", "sw": "Kiswahili", "ne": "नेपाली"}
)

// TestSimulatorInChromium uses the page as a person would, in headless
// Chromium: for each provider, dial from the family head's phone and walk to
// his membership answer, then switch the phone's language and dial again;
// and the SMS pane's CHECK round trip.
func TestSimulatorInChromium(t *testing.T) {
	g := newSimulatorGateway(t)
	browser := browsertest.New(t)
	languages := []string{"fr", "sw", "ne"}
	for i, name := range registry.Names(registry.USSD()) {
		t.Run(name, func(t *testing.T) {
			tab := browsertest.Tab(t, browser)
			lang := languages[i%len(languages)]
			page := simulatorPage{t, tab}
			page.do(chromedp.Navigate(g.URL+"/simulator"),
				page.pick("provider", name),
				page.pickLanguage("en"), // as the previous provider's test left it
				chromedp.Click(chromedp.ID("dial")),
				page.waitText("screen", mainMenuEn),
				page.waitText("status", "waiting for input"),
				page.send("1"),
				page.waitText("screen", "Enter the insurance number"),
				page.send(headCHFID),
				page.waitText("screen", headName),
				page.waitText("status", "session ended"),
			)
			if name == "hubtel" {
				page.do(chromedp.SetAttributeValue(chromedp.ID("wire"), "open", ""))
				browsertest.Screenshot(t, tab, "body", screenshotPhone)
			}
			page.do(page.pickLanguage(lang),
				chromedp.Click(chromedp.ID("dial")),
				page.waitText("screen", mainTitles[lang]),
			)
			if lang == "fr" && name == "africastalking" {
				browsertest.Screenshot(t, tab, "body", screenshotLanguage)
			}
			page.do(chromedp.Click(chromedp.ID("hang")), page.waitText("status", "hung up"))
		})
	}
	t.Run("sms", func(t *testing.T) {
		tab := browsertest.Tab(t, browser)
		page := simulatorPage{t, tab}
		page.do(chromedp.Navigate(g.URL+"/simulator"),
			page.pickLanguage("en"),
			chromedp.SendKeys(chromedp.ID("sms-text"), "CHECK "+headCHFID),
			chromedp.Click(chromedp.ID("sms-send")),
			page.waitText("sms-list", "CHECK "+headCHFID),
			page.waitText("sms-list", headName),
			page.waitText("sms-list", "sent, sms.reply"), // the outbox sent it to the fake AT API
		)
		browsertest.Screenshot(t, tab, "body", screenshotSMS)
	})
}

// simulatorPage drives the simulator's page in a tab.
type simulatorPage struct {
	t   *testing.T
	tab context.Context
}

// do runs steps, failing the test with what the phone shows when one fails.
func (p simulatorPage) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.tab, steps...); err != nil {
		var screen, status string
		ctx, cancel := context.WithTimeout(p.tab, 5*time.Second)
		defer cancel()
		screen, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("screen").textContent`))
		status, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
		p.t.Fatalf("%v\nscreen: %q\nstatus: %q", err, screen, status)
	}
}

// pick chooses value in the select element id, as a person does (its
// change event fires).
func (simulatorPage) pick(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const s = document.getElementById(%s);
			s.value = %s; s.dispatchEvent(new Event("change")); return s.value === %[2]s; })()`, jsString(id), jsString(value)))(ctx, t)
		return err
	})
}

// pickLanguage picks the phone's language once the page shows the one it
// has, and waits until the gateway has remembered it.
func (p simulatorPage) pickLanguage(lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitEnabled(chromedp.ID("lang")),
		p.pick("lang", lang),
		p.waitText("lang-note", languageNames[lang]+" remembered"),
	)
}

// send types input on the phone and presses Send.
func (simulatorPage) send(input string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitEnabled(chromedp.ID("input")),
		chromedp.SendKeys(chromedp.ID("input"), input),
		chromedp.Click(chromedp.ID("send")),
	)
}

// waitText waits until the text of element id contains want.
func (simulatorPage) waitText(id, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](fmt.Sprintf(`document.getElementById(%s).textContent.includes(%s)`, jsString(id), jsString(want)),
			chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
		if err != nil {
			return fmt.Errorf("waiting for %q in #%s: %w", want, id, err)
		}
		return nil
	})
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) //nolint:errcheck // a string always marshals
	return string(b)
}
