package openimis_test

import (
	"testing"

	"github.com/openimis/imis-gateway/openimis"
)

func TestNormalizePhone(t *testing.T) {
	for _, raw := range []string{"0712345678", "0712 345 678", "+255 712 345 678", "255712345678", "+255712345678",
		"0712-345-678", "(0712) 345678", " +255-712-345-678 "} {
		if got, ok := openimis.NormalizePhone(raw, "TZ"); !ok || got != "+255712345678" {
			t.Errorf("openimis.NormalizePhone(%q) = %q, %v", raw, got, ok)
		}
	}
	if got, ok := openimis.NormalizePhone("0712345678", "KE"); !ok || got != "+254712345678" {
		t.Errorf("Kenya: %q, %v", got, ok)
	}
	for _, raw := range []string{"", "  ", "abc", "12", "0712", "+2557123456789012345", "\x00"} {
		if got, ok := openimis.NormalizePhone(raw, "TZ"); ok {
			t.Errorf("openimis.NormalizePhone(%q) = %q, want none", raw, got)
		}
	}
}
