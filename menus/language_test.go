package menus

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

const languageMenu = "1. English\n2. Français\n3. Kiswahili\n4. नेपाली\n0 Back 00 Menu"

func TestLanguageMenu(t *testing.T) {
	langs := &fakeLanguages{}
	e := newFullEngine(newFake(), newFakeClaims(), langs, Options{})
	caller := Caller{Phone: "0712 345 678"} // local form: remembered as E.164
	states, screens := walk(t, e, caller, nil, "3")
	// The title gives way: with Devanagari the screen is UCS-2, 70 units.
	if screens[1].Text != languageMenu || states[1].Node != NodeLanguage {
		t.Fatalf("language menu %+v:\n%s", states[1], screens[1].Text)
	}
	if !withinBudget(screens[1].Text, DefaultBudget) {
		t.Errorf("over budget")
	}

	// Choosing Kiswahili: remembered for the phone, and the session
	// continues in it at once, on the main menu.
	st, scr, err := e.Next(context.Background(), caller, states[1], "3")
	if err != nil {
		t.Fatal(err)
	}
	wantSw := "Lugha imehifadhiwa.\nBima ya Afya\n1. Hakiki uanachama\n2. Hali ya madai\n3. Lugha"
	if st.Node != NodeMain || st.Lang != "sw" || len(st.Back) != 0 || scr.Text != wantSw {
		t.Errorf("after choosing: %+v\n%s", st, scr.Text)
	}
	if langs.byKey["+255712345678"] != "sw" || langs.writes != 1 {
		t.Errorf("stored %v (%d writes)", langs.byKey, langs.writes)
	}
	// The following screens of the same session are in Kiswahili, whatever
	// the caller's language the gateway passes.
	caller.Lang = "en"
	st, scr, _ = e.Next(context.Background(), caller, st, "1")
	if st.Lang != "sw" || scr.Text != "Weka namba ya bima:\n0 Rudi 00 Menyu" {
		t.Errorf("next screen: %+v %q", st, scr.Text)
	}
	st, scr, _ = e.Next(context.Background(), caller, st, "101000001")
	if !scr.End || !strings.Contains(scr.Text, "Basic Cover: hai hadi 31 Des 2026") {
		t.Errorf("answer in Kiswahili: %q", scr.Text)
	}
	// Back to English: Nepali, then English, from the Swahili menu.
	for _, in := range []string{"00", "3", "4"} {
		st, scr, _ = e.Next(context.Background(), caller, st, in)
	}
	// The notice and the items leave no room for the title.
	if st.Lang != "ne" || scr.Text != "भाषा सुरक्षित भयो।\n1. सदस्यता जाँच\n2. दाबीको स्थिति\n3. भाषा" {
		t.Errorf("Nepali: %+v %q", st, scr.Text)
	}
}

func TestLanguageMenuInvalid(t *testing.T) {
	langs := &fakeLanguages{}
	e := newFullEngine(newFake(), newFakeClaims(), langs, Options{})
	for _, in := range []string{"5", "", "x", "12", "😀"} {
		_, screens := walk(t, e, stranger, nil, "3", in)
		// The notice takes the navigation line's place.
		if got, want := last(screens).Text, "Invalid choice.\n"+strings.TrimSuffix(languageMenu, "\n0 Back 00 Menu"); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if langs.writes != 0 {
		t.Errorf("%d writes for invalid choices", langs.writes)
	}
}

func TestLanguageStoreFailure(t *testing.T) {
	boom := errors.New("connection refused")
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{err: boom}, Options{})
	from := State{Node: NodeLanguage, Back: []string{NodeMain}, Lang: "fr"}
	st, scr, err := e.Next(context.Background(), stranger, from, "2")
	if !errors.Is(err, boom) || scr != e.Unavailable("fr") || st.Node != NodeLanguage || st.Lang != "fr" {
		t.Errorf("%+v %+v %v", st, scr, err)
	}
	if strings.Contains(err.Error(), "255799999999") {
		t.Errorf("error names the phone: %v", err)
	}
}

func TestLanguageOf(t *testing.T) {
	ctx := context.Background()
	langs := &fakeLanguages{byKey: map[string]string{"+255712345678": "fr", "+255700000000": "de"}}
	e := newFullEngine(newFake(), nil, langs, Options{DefaultLang: "sw"})
	for phone, want := range map[string]string{
		"+255712345678":    "fr",
		"255712345678":     "fr",
		"0712 345 678":     "fr",
		"+255799999999":    "sw", // no choice
		"+255700000000":    "sw", // a code this release does not speak
		"":                 "sw",
		"anonymous":        "sw",
		"+254712345678":    "sw", // same digits, other country
		"+255 712-345-678": "fr",
	} {
		if got, err := e.LanguageOf(ctx, phone); got != want || err != nil {
			t.Errorf("LanguageOf(%q) = %q, %v; want %q", phone, got, err, want)
		}
	}
	// A failing store: the default language and the error.
	langs.err = errors.New("timeout")
	if got, err := e.LanguageOf(ctx, "+255712345678"); got != "sw" || !errors.Is(err, langs.err) {
		t.Errorf("failing store: %q, %v", got, err)
	}
	// Without a store there is nothing to look up, and no Language item.
	e = newTestEngine(newFake())
	if got, err := e.LanguageOf(ctx, "+255712345678"); got != "en" || err != nil {
		t.Errorf("no store: %q, %v", got, err)
	}
	if _, screens := walk(t, e, stranger, nil); strings.Contains(screens[0].Text, "Language") {
		t.Errorf("Language item without a store: %q", screens[0].Text)
	}
}

// TestSessionLanguage: the caller's language starts the session; an
// unknown one falls back to the default; State.Lang then wins over it.
func TestSessionLanguage(t *testing.T) {
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{DefaultLang: "fr"})
	ctx := context.Background()
	for lang, title := range map[string]string{"": "Assurance maladie", "xx": "Assurance maladie", "ne": "स्वास्थ्य बीमा", "en": "Health insurance"} {
		st, scr, _ := e.Begin(ctx, Caller{Phone: stranger.Phone, Lang: lang}, nil)
		if !strings.HasPrefix(scr.Text, title+"\n") || !Supported(st.Lang) {
			t.Errorf("caller %q: %+v %q", lang, st, scr.Text)
		}
	}
	st, _, _ := e.Begin(ctx, Caller{Phone: stranger.Phone, Lang: "sw"}, nil)
	_, scr, _ := e.Next(ctx, Caller{Phone: stranger.Phone, Lang: "en"}, st, "9")
	if !strings.HasPrefix(scr.Text, "Chaguo si sahihi.\nBima ya Afya") {
		t.Errorf("State.Lang ignored: %q", scr.Text)
	}
	// A state without a language (stored by an older release) takes the
	// caller's.
	_, scr, _ = e.Next(ctx, Caller{Phone: stranger.Phone, Lang: "en"}, State{Node: NodeMain}, "9")
	if !strings.HasPrefix(scr.Text, "Invalid choice.\nHealth insurance") {
		t.Errorf("no State.Lang: %q", scr.Text)
	}
}

func TestLanguages(t *testing.T) {
	e := newFullEngine(newFake(), newFakeClaims(), &fakeLanguages{}, Options{})
	want := []Language{{"en", "English"}, {"fr", "Français"}, {"sw", "Kiswahili"}, {"ne", "नेपाली"}}
	if got := e.Languages(); !slices.Equal(got, want) {
		t.Errorf("Languages() = %v, want %v", got, want)
	}
}

func TestSetLanguageOf(t *testing.T) {
	for _, c := range []struct {
		name    string
		langs   LanguageStore
		phone   string
		lang    string
		wantErr bool
		wantKey string // where the choice is remembered
	}{
		{"local number remembered as E.164", &fakeLanguages{}, "0712 345 678", "fr", false, "+255712345678"},
		{"E.164", &fakeLanguages{}, "+255712111222", "ne", false, "+255712111222"},
		{"a language not spoken", &fakeLanguages{}, "+255712111222", "de", true, ""},
		{"no language store", nil, "+255712111222", "fr", true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newFullEngine(newFake(), newFakeClaims(), c.langs, Options{})
			err := e.SetLanguageOf(context.Background(), c.phone, c.lang)
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want an error: %v", err, c.wantErr)
			}
			if c.wantKey == "" {
				return
			}
			if got, _ := e.LanguageOf(context.Background(), c.phone); got != c.lang {
				t.Errorf("LanguageOf = %q, want %q", got, c.lang)
			}
			if stored := c.langs.(*fakeLanguages).byKey[c.wantKey]; stored != c.lang {
				t.Errorf("stored %v", c.langs.(*fakeLanguages).byKey)
			}
		})
	}
}
