package wire

import (
	"errors"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/providertest"
)

func TestDecodeObject(t *testing.T) {
	for _, tc := range []struct {
		label, body, errText string
	}{
		{label: "object", body: `{"a":"x","B":1,"c":null,"d":{"e":[1,{"f":2}]}}`},
		{label: "surrounding space", body: " \n{\"a\":\"x\"}\r\n "},
		{label: "empty object", body: `{}`},
		{label: "empty body", body: ``, errText: "empty body"},
		{label: "blank body", body: " \n", errText: "empty body"},
		{label: "array", body: `[{"a":"x"}]`, errText: "not a JSON object"},
		{label: "string", body: `"a"`, errText: "not a JSON object"},
		{label: "null", body: `null`, errText: "not a JSON object"},
		{label: "repeated member", body: `{"a":"x","a":"y"}`, errText: `repeated member "a"`},
		{label: "repeated member in another case", body: `{"SessionId":"x","sessionId":"y"}`, errText: `repeated member "sessionId"`},
		{label: "repeated member after an unknown one", body: `{"a":"x","z":{"a":1},"A":"y"}`, errText: "repeated member"},
		{label: "two objects", body: `{"a":"x"}{"a":"y"}`, errText: "data after"},
		{label: "trailing garbage", body: `{"a":"x"} x`, errText: "data after"},
		{label: "unterminated", body: `{"a":"x"`, errText: "invalid JSON"},
		{label: "bad value", body: `{"a":x}`, errText: "invalid JSON"},
		{label: "missing colon", body: `{"a" "x"}`, errText: "invalid JSON"},
		{label: "trailing comma", body: `{"a":"x",}`, errText: "invalid JSON"},
		{label: "invalid UTF-8 in a value: checked when read (TestInvalidUTF8)", body: "{\"a\":\"\xff\"}"},
		{label: "invalid UTF-8 in a name", body: "{\"\xc3\x28\":\"x\"}", errText: "member name is not valid UTF-8"},
		{label: "invalid UTF-8 in a later name", body: "{\"a\":\"x\", \"b\xff\":\"x\"}", errText: "member name is not valid UTF-8"},
		{label: "invalid UTF-8 outside a string", body: "{\"a\":\xff}", errText: "invalid JSON"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			_, err := DecodeObject([]byte(tc.body))
			if tc.errText == "" {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if !errors.Is(err, providers.ErrMalformed) || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err %v, want ErrMalformed mentioning %q", err, tc.errText)
			}
		})
	}
}

func TestMembers(t *testing.T) {
	o, err := DecodeObject([]byte(`{"S":"x\u00e9\n","N":null,"T":true,"F":false,"Num":12,"NumS":" 7 ",
		"Empty":"","Neg":-1,"Frac":1.5,"Exp":1e2,"Big":99999999999,"O":{"k":"v","K2":3},"A":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := o.String("s"); err != nil || s != "xé\n" {
		t.Errorf("String(s) = %q, %v", s, err)
	}
	if s, err := o.String("N"); err != nil || s != "" || o.Has("N") {
		t.Errorf("null: %q, %v, Has %v", s, err, o.Has("N"))
	}
	if s, err := o.String("absent"); err != nil || s != "" || o.Has("absent") {
		t.Errorf("absent: %q, %v", s, err)
	}
	for _, name := range []string{"T", "Num", "O", "A"} {
		if _, err := o.String(name); !errors.Is(err, providers.ErrMalformed) || !strings.Contains(err.Error(), "want a string") {
			t.Errorf("String(%s) err %v", name, err)
		}
	}
	if v, ok, err := o.Bool("t"); !v || !ok || err != nil {
		t.Errorf("Bool(t) = %v %v %v", v, ok, err)
	}
	if v, ok, err := o.Bool("F"); v || !ok || err != nil {
		t.Errorf("Bool(F) = %v %v %v", v, ok, err)
	}
	if _, ok, err := o.Bool("N"); ok || err != nil {
		t.Errorf("Bool(null) = %v %v", ok, err)
	}
	if _, _, err := o.Bool("S"); !errors.Is(err, providers.ErrMalformed) || !strings.Contains(err.Error(), "S is a string, want a boolean") {
		t.Errorf("Bool(S) err %v", err)
	}
	for name, want := range map[string]int{"Num": 12, "NumS": 7} {
		if n, ok, err := o.Count(name); n != want || !ok || err != nil {
			t.Errorf("Count(%s) = %d %v %v", name, n, ok, err)
		}
	}
	for _, name := range []string{"Empty", "N", "absent"} {
		if _, ok, err := o.Count(name); ok || err != nil {
			t.Errorf("Count(%s) = %v %v, want absent", name, ok, err)
		}
	}
	for _, name := range []string{"Neg", "Frac", "Exp", "Big", "S", "T", "O"} {
		if _, _, err := o.Count(name); !errors.Is(err, providers.ErrMalformed) {
			t.Errorf("Count(%s) err %v, want ErrMalformed", name, err)
		}
	}
	sub, ok, err := o.Object("o")
	if err != nil || !ok {
		t.Fatalf("Object(o) %v %v", ok, err)
	}
	if s, _ := sub.String("K"); s != "v" {
		t.Errorf("sub String(K) = %q", s)
	}
	if _, _, err := o.Object("A"); !errors.Is(err, providers.ErrMalformed) {
		t.Errorf("Object(A) err %v", err)
	}
	dup, _ := DecodeObject([]byte(`{"p":{"x":1,"X":2}}`))
	if _, _, err := dup.Object("p"); !errors.Is(err, providers.ErrMalformed) || !strings.Contains(err.Error(), "p: ") {
		t.Errorf("nested repeat err %v", err)
	}
}

// TestInvalidUTF8: a string member with invalid UTF-8 makes the request
// malformed, unless it is the user's input (Text, Field.Input), whose runs of
// invalid bytes become U+FFFD, with or without escapes around them.
func TestInvalidUTF8(t *testing.T) {
	o, err := DecodeObject([]byte("{\"id\":\"s\xff\",\"in\":\"1\xc3\x28\xfe\xff2\",\"esc\":\"\\u00e9\xc0\xaf\\n\",\"ok\":\"x\"}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.String("id"); !errors.Is(err, providers.ErrMalformed) || !strings.Contains(err.Error(), "id is not valid UTF-8") {
		t.Errorf("String(id) err %v", err)
	}
	for name, want := range map[string]string{"in": "1\uFFFD(\uFFFD2", "esc": "é\uFFFD\n", "ok": "x", "absent": ""} {
		if got, err := o.Text(name); err != nil || got != want {
			t.Errorf("Text(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	var in, ok string
	if err := o.Strings([]Field{{Name: "in", Dst: &in, Input: true}, {Name: "ok", Dst: &ok}}); err != nil || in != "1\uFFFD(\uFFFD2" || ok != "x" {
		t.Errorf("Strings: %q %q %v", in, ok, err)
	}
	if err := o.Strings([]Field{{Name: "ok", Dst: &ok}, {Name: "id", Dst: new(string), Input: false}}); !errors.Is(err, providers.ErrMalformed) {
		t.Errorf("Strings with an identifier: %v", err)
	}
	if got := providers.ValidUTF8("1\xc3\x28\xfe\xff2"); got != "1\uFFFD(\uFFFD2" {
		t.Errorf("the form's replacement differs: %q", got)
	}
}

func TestReadObject(t *testing.T) {
	for _, tc := range []struct {
		label, ct string
		limit     int64
		status    int
	}{
		{"json", "application/json", 0, 200},
		{"json with charset", "application/json; charset=utf-8", 0, 200},
		{"json in capitals", "Application/JSON", 0, 200},
		{"form", "application/x-www-form-urlencoded", 0, 400},
		{"text", "text/plain", 0, 400},
		{"json-ish subtype", "application/json-patch+json", 0, 400},
		{"none", "", 0, 400},
		{"over the limit", "application/json", 4, 413},
	} {
		t.Run(tc.label, func(t *testing.T) {
			_, err := ReadObject(providertest.NewRequest("POST", "/", tc.ct, `{"a":"x"}`, tc.limit))
			if got := providertest.StatusOf(err); got != tc.status {
				t.Errorf("status %d (%v), want %d", got, err, tc.status)
			}
		})
	}
}

func TestPhone(t *testing.T) {
	for _, tc := range []struct{ in, want, errText string }{
		{in: "233246912184", want: "+233246912184"},
		{in: "+233246912184", want: "+233246912184"},
		{in: " 255712345678 ", want: "+255712345678"},
		{in: "0244123456", want: "0244123456"},
		{in: "+0244123456", want: "+0244123456"},
		{in: "", errText: "missing phone number"},
		{in: "  ", errText: "missing phone number"},
		{in: "23324", errText: "malformed"},
		{in: "2332469121841234", errText: "malformed"},
		{in: "233XXXXXXXXX", errText: "malformed"},
		{in: "++233246912184", errText: "malformed"},
		{in: "233 246 912 184", errText: "malformed"},
		{in: "٢٣٣٢٤٦٩١٢١٨٤", errText: "malformed"},                                             // Arabic-Indic digits
		{in: "233246912184" + strings.Repeat(" ", 21), errText: "msisdn longer than 32 bytes"}, // echoed as sent
	} {
		got, err := Phone("msisdn", tc.in)
		if tc.errText != "" {
			if !errors.Is(err, providers.ErrMalformed) || !strings.Contains(err.Error(), tc.errText) {
				t.Errorf("Phone(%q) err %v, want %q", tc.in, err, tc.errText)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Phone(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := Phone("Mobile", ""); !errors.Is(err, ErrNoPhone) {
		t.Errorf("empty phone err %v, want ErrNoPhone", err)
	}
}

func TestIdentifier(t *testing.T) {
	if v, err := Identifier("id", "  abc ", 3, true); v != "abc" || err != nil {
		t.Errorf("got %q %v", v, err)
	}
	for _, tc := range []struct{ v, errText string }{
		{"", "missing id"},
		{"abcdefghijk", "longer than 10 bytes"},
		{"a\tb", "control character"},
		{"a\u0085b", "control character"},
		{"a\x1b[2Jb", "control character"},
		{"a\x81b", "not valid UTF-8"},
	} {
		if _, err := Identifier("id", tc.v, 10, true); !errors.Is(err, providers.ErrMalformed) || !strings.Contains(err.Error(), tc.errText) {
			t.Errorf("Identifier(%q) err %v, want %q", tc.v, err, tc.errText)
		}
	}
	if v, err := Identifier("id", "", 3, false); v != "" || err != nil {
		t.Errorf("optional: %q %v", v, err)
	}
}

func TestEncode(t *testing.T) {
	got := string(Encode(struct {
		A string `json:"a"`
		B bool   `json:"b"`
	}{"<5 claims> & \"more\"\n\u00e9\xff", true}))
	// encoding/json writes invalid UTF-8 as the escape \ufffd.
	want := `{"a":"<5 claims> & \"more\"\n` + "\u00e9" + `\ufffd","b":true}`
	if got != want {
		t.Errorf("Encode = %s, want %s", got, want)
	}
}
