package providers

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Inputs at the limit and past it: 182 characters (Nepali letters are three
// bytes each, the count is of characters), and one more.
var (
	longest      = strings.Repeat("9", MaxInput)
	longestNe    = strings.Repeat("न", MaxInput)
	tooLongInput = strings.Repeat("9", MaxInput+1)
)

// atHop is an Africa's Talking hop with transcript text.
func atHop(text string) Hop {
	return Hop{Provider: "africastalking", SessionID: "ATUid_1", Phone: "+255712345678",
		ServiceCode: "*384*1234#", Text: text, Accumulated: true, ReplayKey: "t:" + text}
}

func TestInputs(t *testing.T) {
	for _, tc := range []struct {
		label  string
		hop    Hop
		prev   string
		first  bool
		inputs []string
		err    error
	}{
		// Accumulated (Africa's Talking).
		{label: "AT first hop, plain dial", hop: atHop(""), first: true},
		{label: "AT first hop, pre-dialled route", hop: atHop("1*12345678"), first: true, inputs: []string{"1", "12345678"}},
		{label: "AT second hop", hop: atHop("1"), inputs: []string{"1"}},
		{label: "AT third hop", hop: atHop("1*12345678"), prev: "1", inputs: []string{"12345678"}},
		{label: "AT '*' typed inside free text", hop: atHop("3*12345678*RC*42"), prev: "3*12345678", inputs: []string{"RC*42"}},
		{label: "AT '*' typed as the whole input", hop: atHop("3***"), prev: "3", inputs: []string{"**"}},
		{label: "AT empty input appended", hop: atHop("1*"), prev: "1", inputs: []string{""}},
		{label: "AT shorter transcript", hop: atHop("1"), prev: "1*2", err: ErrDivergent},
		{label: "AT divergent transcript", hop: atHop("2*5"), prev: "1*5", err: ErrDivergent},
		{label: "AT prefix without separator", hop: atHop("12"), prev: "1", err: ErrDivergent},

		// Last-only, first hop carrying the full dial string, one per provider.
		{
			label: "Hubtel Initiation *714*5*3# on 714*5",
			hop:   Hop{Provider: "hubtel", Start: true, Dialled: "*714*5*3#", ServiceCode: "714*5", ReplayKey: "seq:1", Seq: 1},
			first: true, inputs: []string{"3"},
		},
		{
			label: "Hubtel Initiation, plain dial",
			hop:   Hop{Provider: "hubtel", Start: true, Dialled: "*714*5#", ServiceCode: "714*5", ReplayKey: "seq:1", Seq: 1},
			first: true,
		},
		{
			label: "Nalo MSGTYPE true *920*100*3# on configured *920*100#",
			hop:   Hop{Provider: "nalo", Start: true, Dialled: "*920*100*3#", ServiceCode: "*920*100#", ReplayKey: ReplayKeyStart},
			first: true, inputs: []string{"3"},
		},
		{
			label: "Nalo start without a configured service code: no route",
			hop:   Hop{Provider: "nalo", Start: true, Dialled: "*920*100*3#", ReplayKey: ReplayKeyStart},
			first: true,
		},
		{
			label: "Arkesel newSession *920*100*3# on 920*100",
			hop:   Hop{Provider: "arkesel", Start: true, Dialled: "*920*100*3#", ServiceCode: "920*100", ReplayKey: ReplayKeyStart},
			first: true, inputs: []string{"3"},
		},
		{
			label: "Infobip start *123*3# on shortCode *123#",
			hop:   Hop{Provider: "infobip", Start: true, Dialled: "*123*3#", ServiceCode: "*123#", ReplayKey: ReplayKeyStart},
			first: true, inputs: []string{"3"},
		},
		{
			label: "Infobip start, route to a result *123*1*12345678#",
			hop:   Hop{Provider: "infobip", Start: true, Dialled: "*123*1*12345678#", ServiceCode: "*123#", ReplayKey: ReplayKeyStart},
			first: true, inputs: []string{"1", "12345678"},
		},
		{
			label: "Beem initiate, empty input",
			hop:   Hop{Provider: "beem", Start: true, ServiceCode: "*150*88#", ReplayKey: ReplayKeyStart},
			first: true,
		},

		// Last-only, later hops.
		{label: "last-only second hop", hop: Hop{Provider: "nalo", Text: "1"}, inputs: []string{"1"}},
		{label: "last-only input with '*' kept whole", hop: Hop{Provider: "nalo", Text: "RC*42"}, inputs: []string{"RC*42"}},
		{label: "last-only empty input", hop: Hop{Provider: "hubtel", Text: "", Seq: 3, ReplayKey: "seq:3"}, inputs: []string{""}},
		{label: "last-only prev is ignored", hop: Hop{Provider: "arkesel", Text: "2"}, prev: "whatever", inputs: []string{"2"}},
		{
			label: "last-only first hop that is no start (session lost): main menu, input dropped",
			hop:   Hop{Provider: "nalo", Text: "12345678", ServiceCode: "*920*100#"},
			first: true,
		},
		{
			label: "a start for a session under way is a late duplicate",
			hop:   Hop{Provider: "nalo", Start: true, Dialled: "*920*100#", ReplayKey: ReplayKeyStart},
			err:   ErrDivergent,
		},

		// Inputs past MaxInput cannot come from a phone: the menus get Unreadable.
		{label: "last-only input at the limit", hop: Hop{Provider: "nalo", Text: longest}, inputs: []string{longest}},
		{label: "last-only input at the limit, in characters", hop: Hop{Provider: "nalo", Text: longestNe}, inputs: []string{longestNe}},
		{label: "last-only input past the limit", hop: Hop{Provider: "nalo", Text: tooLongInput}, inputs: []string{Unreadable}},
		{
			label: "last-only dial string past the limit",
			hop:   Hop{Provider: "hubtel", Start: true, Dialled: "*714*5*" + tooLongInput + "#", ServiceCode: "714*5"},
			first: true, inputs: []string{Unreadable},
		},
		{label: "AT newest input at the limit", hop: atHop("1*" + longest), prev: "1", inputs: []string{longest}},
		{label: "AT newest input past the limit", hop: atHop("1*" + tooLongInput), prev: "1", inputs: []string{Unreadable}},
		{label: "AT second hop past the limit", hop: atHop(tooLongInput), inputs: []string{Unreadable}},
		{label: "AT route past the limit", hop: atHop("1*" + tooLongInput), first: true, inputs: []string{Unreadable}},
		{label: "AT after a long input, the next one", hop: atHop("1*" + tooLongInput + "*2"), prev: "1*" + tooLongInput, inputs: []string{"2"}},

		// End signals.
		{label: "Hubtel Release", hop: Hop{Provider: "hubtel", End: true}, err: ErrEnded},
		{label: "Infobip end on a new session", hop: Hop{Provider: "infobip", End: true}, first: true, err: ErrEnded},
		{label: "End wins over Accumulated", hop: Hop{Accumulated: true, End: true, Text: "1"}, prev: "", err: ErrEnded},
	} {
		t.Run(tc.label, func(t *testing.T) {
			got, err := tc.hop.Inputs(tc.prev, tc.first)
			if !errors.Is(err, tc.err) || (err != nil && tc.err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if !slices.Equal(got, tc.inputs) {
				t.Errorf("inputs %q, want %q", got, tc.inputs)
			}
		})
	}
}

func TestBound(t *testing.T) {
	for _, tc := range []struct {
		label string
		hop   Hop
		want  Hop
		err   error
	}{
		{label: "last-only input kept", hop: Hop{Text: longestNe}, want: Hop{Text: longestNe}},
		{label: "last-only input past the limit", hop: Hop{Text: tooLongInput}, want: Hop{Text: Unreadable}},
		{label: "AT transcript at the limit", hop: atHop(strings.Repeat("1*", MaxTranscript/2)[:MaxTranscript]),
			want: atHop(strings.Repeat("1*", MaxTranscript/2)[:MaxTranscript])},
		{label: "AT transcript past the limit", hop: atHop(strings.Repeat("1", MaxTranscript+1)), err: ErrTooLong},
		{label: "end signals are left alone", hop: Hop{End: true, Text: tooLongInput}, want: Hop{End: true, Text: tooLongInput}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			hop := tc.hop
			err := hop.Bound()
			if !errors.Is(err, tc.err) || (err != nil && tc.err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && hop != tc.want {
				t.Errorf("hop %+v, want %+v", hop, tc.want)
			}
		})
	}
	// The counted replay key is taken from the bounded input: it never
	// carries the text.
	hop := Hop{Text: tooLongInput}
	if err := hop.Bound(); err != nil || hop.KeyAt(3) != "n:3:"+Unreadable {
		t.Errorf("KeyAt after Bound = %q, %v", hop.KeyAt(3), err)
	}
}

func TestValidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"12345678":             "12345678",
		"Kwame*Ménsah नमस्ते":  "Kwame*Ménsah नमस्ते",
		"1*\xff":               "1*\uFFFD",
		"\xc3\x28":             "\uFFFD(",              // a lead byte without its continuation
		"1\xfe\xff\xc0\xaf2":   "1\uFFFD2",             // one replacement per run
		"\xed\xa0\x80":         "\uFFFD",               // an encoded surrogate
		"ok\xe2\x82":           "ok\uFFFD",             // cut short
		"\uFFFD typed as such": "\uFFFD typed as such", // already valid
	} {
		if got := ValidUTF8(in); got != want {
			t.Errorf("ValidUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		dialled, code string
		route         []string
	}{
		{"*714*5*3#", "714*5", []string{"3"}},
		{"*714*5*3#", "*714*5#", []string{"3"}},
		{"*714*5*3#", "*714*5", []string{"3"}},
		{"*714*5*3#", "714*5#", []string{"3"}},
		{"*714*5*3*100*1#", "714*5", []string{"3", "100", "1"}},
		{"*714*5*3", "714*5", []string{"3"}},      // no '#' sent
		{" *714*5*3# ", " 714*5 ", []string{"3"}}, // stray space
		{"*714*5**3#", "714*5", []string{"3"}},    // empty part skipped
		{"*714*5*RC*42#", "714*5", []string{"RC", "42"}},
		{"*714*5#", "714*5", nil},   // plain dial
		{"*714*5*#", "714*5", nil},  // nothing after the separator
		{"*714*5*3#", "", nil},      // code unknown
		{"", "714*5", nil},          // nothing dialled
		{"*711*2*3#", "714*5", nil}, // another code on a shared callback
		{"*7145*3#", "714", nil},    // shares digits, not a prefix at '*'
		{"*714*5#3#", "714*5", nil}, // '#' where the separator should be
		{"*714#", "*714*5#", nil},   // shorter than the code
		{"*123#1#", "*123#", nil},   // vumi's odd shortCode form
		{"3", "714*5", nil},         // an input, not a dial string
		{"*714*5*3#", "*", nil},     // a code of nothing
	} {
		if got := Route(tc.dialled, tc.code); !slices.Equal(got, tc.route) {
			t.Errorf("Route(%q, %q) = %q, want %q", tc.dialled, tc.code, got, tc.route)
		}
	}
}

func TestKeyAt(t *testing.T) {
	keyed := Hop{Text: "1", ReplayKey: "seq:2"}
	for _, n := range []int{0, 1, 7} {
		if got := keyed.KeyAt(n); got != "seq:2" {
			t.Errorf("keyed KeyAt(%d) = %q, want its own key", n, got)
		}
	}
	if got := atHop("").KeyAt(3); got != "t:" {
		t.Errorf("AT first hop KeyAt = %q, want t:", got)
	}

	counted := Hop{Text: "98"}
	if got := counted.KeyAt(2); got != "n:2:98" {
		t.Errorf("KeyAt(2) = %q, want n:2:98", got)
	}
	// A retry that arrived while its original was being answered saw the
	// same count: same key, replayed.
	if counted.KeyAt(2) != (Hop{Text: "98"}).KeyAt(2) {
		t.Error("a retry seeing the same count must get the same key")
	}
	// The user typing "98" again on the next screen saw one more answer.
	if counted.KeyAt(2) == counted.KeyAt(3) {
		t.Error("the same input on the next hop must get a new key")
	}
	if (Hop{Text: "1"}).KeyAt(2) == (Hop{Text: "2"}).KeyAt(2) {
		t.Error("different inputs must get different keys")
	}
	// Keys of different shape never collide: ':' ends the count.
	if (Hop{Text: "1:2"}).KeyAt(1) == (Hop{Text: "2"}).KeyAt(11) {
		t.Error("n:1:1:2 and n:11:2 must differ")
	}
}

func TestStale(t *testing.T) {
	for _, tc := range []struct {
		seq, answered int
		stale         bool
	}{
		{seq: 0, answered: 5, stale: false}, // not numbered
		{seq: 1, answered: 0, stale: false}, // Initiation of a new session
		{seq: 2, answered: 1, stale: false}, // the next hop
		{seq: 4, answered: 1, stale: false}, // a gap is not staleness
		{seq: 2, answered: 2, stale: true},  // already answered (a retry is caught earlier by its key)
		{seq: 1, answered: 3, stale: true},  // a late Initiation
	} {
		if got := (Hop{Seq: tc.seq}).Stale(tc.answered); got != tc.stale {
			t.Errorf("Seq %d, answered %d: Stale %v, want %v", tc.seq, tc.answered, got, tc.stale)
		}
	}
}

func TestBoundTo(t *testing.T) {
	for _, tc := range []struct {
		label       string
		hop         Hop
		phone, code string
		bound       bool
	}{
		{"same phone and code", Hop{Phone: "+233244123456", ServiceCode: "714*5"}, "+233244123456", "714*5", true},
		{"other phone", Hop{Phone: "+233244999999", ServiceCode: "714*5"}, "+233244123456", "714*5", false},
		{"other code", Hop{Phone: "+233244123456", ServiceCode: "711*2"}, "+233244123456", "714*5", false},
		{"hop without code", Hop{Phone: "+385955363443"}, "+385955363443", "*123#", true},
		{"session began without code", Hop{Phone: "+385955363443", ServiceCode: "*123#"}, "+385955363443", "", true},
		{"hop without code, other phone", Hop{Phone: "+385955363444"}, "+385955363443", "*123#", false},
		{"end signal carries nothing", Hop{End: true}, "+385955363443", "*123#", true},
	} {
		if got := tc.hop.BoundTo(tc.phone, tc.code); got != tc.bound {
			t.Errorf("%s: BoundTo %v, want %v", tc.label, got, tc.bound)
		}
	}
}

// The hop model stays a comparable value: gateway and tests compare hops with
// ==, and Redis keys are built from its strings.
var _ = Hop{} == Hop{}
