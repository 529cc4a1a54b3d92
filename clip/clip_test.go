package clip_test

import (
	"testing"
	"unicode/utf8"

	"github.com/openimis/imis-gateway/clip"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 5, ""},
		{"short", 5, "short"},
		{"longer", 5, "longe"},
		{"0.4.0-rc.1+g1234567890", 15, "0.4.0-rc.1+g123"},
		{"é", 1, ""},            // two bytes: never half of one
		{"aé", 2, "a"},          // the cut moves back to the start of é
		{"नमस्ते", 4, "न"},      // three bytes a letter
		{"a\xffb", 3, "a?b"},    // invalid UTF-8 is replaced, not cut into
		{"abc", 0, ""},          // nothing fits
		{"abc", -1, ""},         // nor below nothing
		{"x\x00y", 3, "x\x00y"}, // NUL is the caller's business (PostgreSQL refuses it in text)
	}
	for _, tt := range tests {
		got := clip.Bytes(tt.s, tt.n)
		if got != tt.want || len(got) > max(tt.n, 0) || !utf8.ValidString(got) {
			t.Errorf("Bytes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
