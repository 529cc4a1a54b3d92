package menus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/openimis"
)

const (
	mainMenu     = "Health insurance\n1. Check membership"
	invalidMain  = "Invalid choice.\n" + mainMenu
	askScreen    = "Enter the insurance number:\n0 Back 00 Menu"
	formatScreen = "An insurance number has 1 to 12 letters or digits.\n" + askScreen
)

// walk begins a session with route and applies inputs, failing the test on
// an error; it returns every state and screen, the first being Begin's.
func walk(t *testing.T, e *Engine, c Caller, route []string, inputs ...string) ([]State, []Screen) {
	t.Helper()
	ctx := context.Background()
	st, scr, err := e.Begin(ctx, c, route)
	if err != nil {
		t.Fatalf("Begin(%q): %v", route, err)
	}
	states, screens := []State{st}, []Screen{scr}
	for _, in := range inputs {
		if scr.End {
			t.Fatalf("input %q after an END screen %q", in, scr.Text)
		}
		if st, scr, err = e.Next(ctx, c, st, in); err != nil {
			t.Fatalf("Next(%+v, %q): %v", st, in, err)
		}
		states, screens = append(states, st), append(screens, scr)
	}
	return states, screens
}

func last[T any](s []T) T { return s[len(s)-1] }

func TestMainMenu(t *testing.T) {
	e := newTestEngine(newFake())
	tests := []struct {
		name   string
		inputs []string
		want   Screen
		node   string
	}{
		{"begin", nil, Screen{Text: mainMenu}, NodeMain},
		{"check membership", []string{"1"}, Screen{Text: askScreen}, NodeMembershipAsk},
		{"padded choice", []string{" 1 "}, Screen{Text: askScreen}, NodeMembershipAsk},
		{"unknown item", []string{"7"}, Screen{Text: invalidMain}, NodeMain},
		{"two digits", []string{"11"}, Screen{Text: invalidMain}, NodeMain},
		{"empty", []string{""}, Screen{Text: invalidMain}, NodeMain},
		{"letters", []string{"abc"}, Screen{Text: invalidMain}, NodeMain},
		{"star", []string{"*"}, Screen{Text: invalidMain}, NodeMain},
		{"arabic one", []string{"١"}, Screen{Text: invalidMain}, NodeMain},
		{"huge", []string{strings.Repeat("1", 5000)}, Screen{Text: invalidMain}, NodeMain},
		{"mistake then right", []string{"x", "1"}, Screen{Text: askScreen}, NodeMembershipAsk},
		{"back at main", []string{"0"}, Screen{Text: mainMenu}, NodeMain},
		{"home at main", []string{"00"}, Screen{Text: mainMenu}, NodeMain},
		{"back after a mistake", []string{"x", "0"}, Screen{Text: mainMenu}, NodeMain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			states, screens := walk(t, e, stranger, nil, tt.inputs...)
			if got := last(screens); got != tt.want {
				t.Errorf("screen = %#v, want %#v", got, tt.want)
			}
			if got := last(states).Node; got != tt.node {
				t.Errorf("node = %q, want %q", got, tt.node)
			}
		})
	}
}

func TestCheckMembership(t *testing.T) {
	const masked = "A*** J***\n"
	tests := []struct {
		name, chfid, want string
	}{
		{"covered", "101000001", masked + "No. 101000001\nBasic Cover: covered until 31 Dec 2026"},
		{"not yet active, idle", "101000002", masked + "No. 101000002\nBasic Cover: not yet active"},
		{"not yet active, future effective date", "101000003", masked + "No. 101000003\nBasic Cover: not yet active, from 1 Jul 2026"},
		{"expired", "101000004", masked + "No. 101000004\nBasic Cover: expired on 31 Dec 2025"},
		{"suspended", "101000005", masked + "No. 101000005\nBasic Cover: suspended"},
		{"covered and expired shows only covered", "101000006",
			masked + "No. 101000006\nBasic Cover: covered until 31 Dec 2026\nExtra Care: covered until 31 Aug 2026"},
		{"no policy", "101000007", masked + "No. 101000007\nNo policy"},
		{"none covered: latest expiry first", "101000008", masked + "No. 101000008\nBasic Cover: suspended\n" +
			"Basic Cover: expired on 31 Dec 2025\nBasic Cover: expired on 31 Dec 2024\nBasic Cover: not yet active"},
		{"long product name shows the code", "101000009", masked + "No. 101000009\nCHF-TZ: covered until 31 Jan 2027"},
		{"five digits", "12345", masked + "No. 12345\nBasic Cover: covered until 31 Dec 2026"},
		{"letters and digits", "AB12cd34", masked + "No. AB12cd34\nBasic Cover: covered until 31 Dec 2026"},
		{"spaces around the number", "  101000001 ", masked + "No. 101000001\nBasic Cover: covered until 31 Dec 2026"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFake()
			e := newTestEngine(src)
			_, screens := walk(t, e, stranger, nil, "1", tt.chfid)
			if screens[1] != (Screen{Text: askScreen}) {
				t.Errorf("ask screen = %q", screens[1].Text)
			}
			want := Screen{Text: tt.want, End: true}
			if got := last(screens); got != want {
				t.Errorf("answer =\n%s\nwant\n%s", got.Text, want.Text)
			}
			if len(src.today) != 1 || !src.today[0].Equal(testDay) {
				t.Errorf("today passed to the store = %v, want %v (the scheme's date, not UTC's)", src.today, testDay)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	answer1 := Screen{Text: "A*** J***\nNo. 101000001\nBasic Cover: covered until 31 Dec 2026", End: true}
	tests := []struct {
		name  string
		route []string
		want  Screen
		node  string
		calls int
	}{
		{"straight to the answer", []string{"1", "101000001"}, answer1, NodeMembershipAsk, 1},
		{"parts after the end are ignored", []string{"1", "101000001", "1", "00"}, answer1, NodeMembershipAsk, 1},
		{"menu item only", []string{"1"}, Screen{Text: askScreen}, NodeMembershipAsk, 0},
		{"invalid number", []string{"1", "abc!"}, Screen{Text: formatScreen}, NodeMembershipAsk, 0},
		{"empty number", []string{"1", ""}, Screen{Text: formatScreen}, NodeMembershipAsk, 0},
		{"unknown number", []string{"1", "999"},
			Screen{Text: "No insuree has number 999.\n" + askScreen}, NodeMembershipAsk, 1},
		{"unknown item", []string{"9"}, Screen{Text: invalidMain}, NodeMain, 0},
		{"unknown item then a good route", []string{"9", "1", "101000001"}, answer1, NodeMembershipAsk, 1},
		{"invalid then good number", []string{"1", "#", "101000001"}, answer1, NodeMembershipAsk, 1},
		{"back inside the route", []string{"1", "0"}, Screen{Text: mainMenu}, NodeMain, 0},
		{"home inside the route", []string{"1", "00", "1"}, Screen{Text: askScreen}, NodeMembershipAsk, 0},
		{"empty route", []string{}, Screen{Text: mainMenu}, NodeMain, 0},
		{"long route is cut", append([]string{"1"}, strings.Split(strings.Repeat("9,", 40), ",")...),
			Screen{Text: "No insuree has number 9.\n" + askScreen}, NodeMembershipAsk, maxRoute - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFake()
			e := newTestEngine(src)
			states, screens := walk(t, e, stranger, tt.route)
			if got := last(screens); got != tt.want {
				t.Errorf("screen = %#v, want %#v", got, tt.want)
			}
			if got := last(states).Node; got != tt.node {
				t.Errorf("node = %q, want %q", got, tt.node)
			}
			if got := src.callCount(); got != tt.calls {
				t.Errorf("store calls = %d, want %d", got, tt.calls)
			}
		})
	}
}

func TestUnknownNumberThenRetry(t *testing.T) {
	src := newFake()
	e := newTestEngine(src)
	states, screens := walk(t, e, stranger, nil, "1", "101999999", "101000004")
	if want := "No insuree has number 101999999.\n" + askScreen; screens[2].Text != want || screens[2].End {
		t.Errorf("unknown number screen = %+v, want CON %q", screens[2], want)
	}
	if states[2].Node != NodeMembershipAsk {
		t.Errorf("after an unknown number node = %q, want %q", states[2].Node, NodeMembershipAsk)
	}
	if want := "A*** J***\nNo. 101000004\nBasic Cover: expired on 31 Dec 2025"; screens[3].Text != want || !screens[3].End {
		t.Errorf("retry answer = %+v, want END %q", screens[3], want)
	}
	if !slices.Equal(src.calls, []string{"101999999", "101000004"}) {
		t.Errorf("store calls = %q", src.calls)
	}
}

func TestInvalidInsuranceNumber(t *testing.T) {
	inputs := map[string]string{
		"empty":                   "",
		"spaces":                  "   ",
		"punctuation":             "abc!",
		"inner space":             "1010 00001",
		"dash":                    "101-000001",
		"5,000 digits":            strings.Repeat("7", 5000),
		"one too long":            "1234567890123",
		"arabic-indic digits":     "١٢٣",
		"fullwidth digits":        "１２３",
		"emoji":                   "😀",
		"accented letter":         "10100000é",
		"NUL":                     "101\x00001",
		"invalid UTF-8":           "\xff\xfe",
		"star (a joined AT text)": "1*101000001",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			src := newFake()
			e := newTestEngine(src)
			states, screens := walk(t, e, stranger, nil, "1", in)
			if got := last(screens); got != (Screen{Text: formatScreen}) {
				t.Errorf("screen = %q, want %q", got.Text, formatScreen)
			}
			if got := last(states); got.Node != NodeMembershipAsk || !slices.Equal(got.Back, []string{NodeMain}) {
				t.Errorf("state = %+v, want to stay asking", got)
			}
			if n := src.callCount(); n != 0 {
				t.Errorf("store called %d times for an invalid number", n)
			}
		})
	}
}

func TestCHFIDMaxLen(t *testing.T) {
	n50 := strings.Repeat("4", 50)
	src := newFake()
	e := New(src, Options{CHFIDMaxLen: 50})
	_, screens := walk(t, e, stranger, []string{"1", n50})
	if want := "No insuree has number " + n50 + ".\n" + askScreen; last(screens).Text != want {
		t.Errorf("50-character number: %q, want %q", last(screens).Text, want)
	}
	_, screens = walk(t, e, stranger, []string{"1", n50 + "4"})
	if want := "An insurance number has 1 to 50 letters or digits.\n" + askScreen; last(screens).Text != want {
		t.Errorf("51-character number: %q, want %q", last(screens).Text, want)
	}
	if n := src.callCount(); n != 1 {
		t.Errorf("store calls = %d, want 1", n)
	}
}

// TestNavigation checks "0" and "00" on every node of an engine with every
// feature, so a new node gets covered without touching this test.
func TestNavigation(t *testing.T) {
	e, _, _ := newRenewEngine(Options{})
	ctx := context.Background()
	renewal := Renewal{CHFID: "604120019", Product: "FAM01", Due: 37000_00, Receipt: "R1", Amount: 37000_00}
	for _, caller := range []Caller{stranger, officer} {
		_, home, _ := e.Begin(ctx, caller, nil)
		for name, n := range e.nodes {
			from := State{Node: name, Lang: "en", Renew: renewal}
			if name != NodeMain {
				from.Back = []string{NodeMain}
			}
			if n.paged {
				from.ID = "101203401"
			}
			t.Run(caller.Phone+"/"+name, func(t *testing.T) {
				c := e.newCall(ctx, caller, "en")
				v, err := n.view(c, &from)
				if err != nil {
					t.Fatal(err)
				}
				_, scr, _ := e.render(c, from, "")
				lastLine := scr.Text[strings.LastIndexByte(scr.Text, '\n')+1:]
				if v.nav != "" && lastLine != v.nav || v.nav == "" && strings.Contains(scr.Text, "0 Back 00 Menu") {
					t.Errorf("screen %q: want navigation line %q", scr.Text, v.nav)
				}
				for _, key := range []string{"0", "00", " 0 ", "00\n"} {
					st, scr, err := e.Next(ctx, caller, from, key)
					if err != nil {
						t.Fatal(err)
					}
					if st.Node != NodeMain || len(st.Back) != 0 || st.Lang != "en" || st.Renew != (Renewal{}) || scr != home {
						t.Errorf("%q: got %+v %q, want the main menu", key, st, scr.Text)
					}
				}
			})
		}
	}
	e = newTestEngine(newFake())
	t.Run("back pops one level", func(t *testing.T) {
		// A deeper tree (later issues) pops to the previous node, not home.
		from := State{Node: NodeMembershipAsk, Back: []string{NodeMain, NodeMembershipAsk}}
		st, scr, err := e.Next(ctx, stranger, from, "0")
		if err != nil {
			t.Fatal(err)
		}
		if st.Node != NodeMembershipAsk || !slices.Equal(st.Back, []string{NodeMain}) || scr.Text != askScreen {
			t.Errorf("got %+v %q", st, scr.Text)
		}
		st, _, _ = e.Next(ctx, stranger, st, "00")
		if st.Node != NodeMain || st.Back != nil {
			t.Errorf("home: got %+v", st)
		}
	})
	t.Run("back at main stays at main", func(t *testing.T) {
		st, scr, _ := e.Next(ctx, stranger, State{Node: NodeMain, Back: []string{NodeMembershipAsk}}, "0")
		if st.Node != NodeMain || st.Back != nil || scr.Text != mainMenu {
			t.Errorf("got %+v %q", st, scr.Text)
		}
	})
	t.Run("walks", func(t *testing.T) {
		for _, inputs := range [][]string{{"1", "0"}, {"1", "00"}, {"1", "bad!", "0"}, {"1", "999", "00"}, {"1", "0", "1", "0"}} {
			states, screens := walk(t, e, stranger, nil, inputs...)
			if last(states).Node != NodeMain || last(screens).Text != mainMenu {
				t.Errorf("%q: ends at %+v %q", inputs, last(states), last(screens).Text)
			}
		}
	})
}

func TestStateIsNotMutated(t *testing.T) {
	e := newTestEngine(newFake())
	back := make([]string, 1, 4)
	back[0] = NodeMain
	from := State{Node: NodeMain, Back: back}
	st, _, err := e.Next(context.Background(), stranger, from, "1")
	if err != nil {
		t.Fatal(err)
	}
	st.Back[0] = "changed"
	if back[:2][1] != "" || from.Back[0] != NodeMain {
		t.Errorf("Next wrote into the caller's State.Back: %q", back[:2])
	}
}

func TestBackStackIsBounded(t *testing.T) {
	st := State{Node: NodeMain}
	for range 3 * maxBack {
		st = push(st, NodeMain)
	}
	if len(st.Back) != maxBack {
		t.Errorf("len(Back) = %d, want %d", len(st.Back), maxBack)
	}
}

func TestUnknownNodeShowsMainMenu(t *testing.T) {
	e := newTestEngine(newFake())
	for _, st := range []State{{}, {Node: "renamed.node", Back: []string{NodeMain}}} {
		got, scr, err := e.Next(context.Background(), stranger, st, "1")
		if err != nil || got.Node != NodeMain || got.Back != nil || scr.Text != mainMenu {
			t.Errorf("from %+v: %+v %q %v", st, got, scr.Text, err)
		}
	}
	// An unknown node on the back stack also leads home.
	got, _, _ := e.Next(context.Background(), stranger, State{Node: NodeMembershipAsk, Back: []string{"gone"}}, "0")
	if got.Node != NodeMain || got.Back != nil {
		t.Errorf("back to an unknown node: %+v", got)
	}
}

func TestStoreError(t *testing.T) {
	boom := errors.New("connection refused")
	tests := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"infrastructure failure", boom, true},
		{"deadline", context.DeadlineExceeded, true},
		{"wrapped not found is a user mistake", fmt.Errorf("lookup: %w", openimis.ErrInsureeNotFound), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(&fakeSource{err: tt.err})
			ctx := context.Background()
			from := State{Node: NodeMembershipAsk, Back: []string{NodeMain}}
			for _, run := range []func() (State, Screen, error){
				func() (State, Screen, error) { return e.Next(ctx, stranger, from, "101000001") },
				func() (State, Screen, error) { return e.Begin(ctx, stranger, []string{"1", "101000001"}) },
			} {
				st, scr, err := run()
				if !tt.wantErr {
					if err != nil || scr.End || !strings.HasPrefix(scr.Text, "No insuree has number 101000001.") {
						t.Errorf("got %q, %v; want the retry screen", scr.Text, err)
					}
					continue
				}
				if !errors.Is(err, tt.err) {
					t.Errorf("err = %v, want it to wrap %v", err, tt.err)
				}
				if scr != e.Unavailable("en") {
					t.Errorf("screen = %+v, want Unavailable", scr)
				}
				if st.Node != NodeMembershipAsk {
					t.Errorf("state = %+v, want it unchanged", st)
				}
			}
		})
	}
}

func TestEndScreens(t *testing.T) {
	e := newTestEngine(newFake())
	want := map[string][2]string{
		"":   {"Service temporarily unavailable, please try again.", "Session error, please dial again."},
		"en": {"Service temporarily unavailable, please try again.", "Session error, please dial again."},
		"xx": {"Service temporarily unavailable, please try again.", "Session error, please dial again."},
		"fr": {"Service momentanément indisponible, veuillez réessayer.", "Erreur de session, veuillez recomposer le numéro."},
		"sw": {"Huduma haipatikani kwa sasa, tafadhali jaribu tena baadaye.", "Hitilafu imetokea, tafadhali piga tena."},
		"ne": {"सेवा अहिले उपलब्ध छैन, कृपया फेरि प्रयास गर्नुहोस्।", "त्रुटि भयो, कृपया फेरि डायल गर्नुहोस्।"},
	}
	for lang, w := range want {
		if got := e.Unavailable(lang); got != (Screen{Text: w[0], End: true}) {
			t.Errorf("Unavailable(%q) = %+v", lang, got)
		}
		if got := e.SessionError(lang); got != (Screen{Text: w[1], End: true}) {
			t.Errorf("SessionError(%q) = %+v", lang, got)
		}
	}
	// An unknown default language is English.
	if got := New(newFake(), Options{DefaultLang: "de"}).Unavailable(""); got.Text != want["en"][0] {
		t.Errorf("default de: %q", got.Text)
	}
	if got := New(newFake(), Options{DefaultLang: "sw"}).Unavailable("xx"); got.Text != want["sw"][0] {
		t.Errorf("default sw: %q", got.Text)
	}
}

// TestStateJSON checks every node's state survives the gateway's JSON round
// trip and stays small.
func TestStateJSON(t *testing.T) {
	e, _, _ := newRenewEngine(Options{CHFIDMaxLen: 50})
	var states []State
	for name := range e.nodes {
		states = append(states, State{Node: name}, State{Node: name, Back: []string{NodeMain}},
			State{Node: name, Back: []string{NodeMain, NodeMembershipAsk}, Lang: "ne"},
			State{Node: name, Back: []string{NodeMain, NodeClaimsAsk}, Lang: "fr", ID: strings.Repeat("9", 50), Page: 9})
	}
	for _, inputs := range [][]string{{"1"}, {"1", "x"}, {"1", "999"}, {"1", "0"}, {"1", "00"}, {"2", "101203401", "98"}, {"4", "2"},
		{"3", "604120019", "QFC9M3NX5T", "37000"}, {"3", "310482215", "DOD/0417", "0", "R-2025/0042", "1,250.50", "0"}} {
		s, _ := walk(t, e, officer, nil, inputs...)
		states = append(states, s...)
	}
	widest := State{Node: NodeRenewConfirm, Back: []string{NodeMain, NodeRenewAsk, NodeRenewReceipt, NodeRenewAmount}, Lang: "ne",
		Renew: Renewal{CHFID: strings.Repeat("9", 50), Product: strings.Repeat("P", 50), Due: int64(openimis.MaxMoney),
			Receipt: strings.Repeat("R", 50), Amount: int64(openimis.MaxMoney)}}
	states = append(states, widest)
	for _, st := range states {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		// A renewal's state carries what the officer typed (at most 50
		// characters each of number, receipt and product, and two
		// amounts); every other stays under 128 bytes.
		limit := 128
		if st.Renew != (Renewal{}) {
			limit = 192
			if st.Renew.CHFID == widest.Renew.CHFID {
				limit = 320
			}
		}
		if len(b) > limit {
			t.Errorf("%s is %d bytes, want at most %d", b, len(b), limit)
		}
		if st.Renew == (Renewal{}) && strings.Contains(string(b), `"r"`) {
			t.Errorf("%s: an empty renewal is written", b)
		}
		var got State
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.Node != st.Node || !slices.Equal(got.Back, st.Back) || got.Lang != st.Lang || got.ID != st.ID || got.Page != st.Page ||
			got.Renew != st.Renew {
			t.Errorf("round trip of %+v gave %+v", st, got)
		}
	}
}

// TestWritesMarksTheStepsThatWrite: the gateway answers these from the
// stored session only.
func TestWritesMarksTheStepsThatWrite(t *testing.T) {
	for node, writes := range map[string]bool{
		NodeMain: false, NodeMembershipAsk: false, NodeClaimsAsk: false, NodeClaimsList: false,
		NodeRenewAsk: false, NodeRenewReceipt: false, NodeRenewAmount: false,
		NodeRenewConfirm: true, NodeLanguage: true,
	} {
		if got := (State{Node: node}).Writes(); got != writes {
			t.Errorf("%s: Writes() = %v, want %v", node, got, writes)
		}
	}
}
