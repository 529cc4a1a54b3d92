package openimis_test

import (
	"testing"

	"github.com/openimis/imis-gateway/openimis"
)

func TestParseMoney(t *testing.T) {
	good := map[string]openimis.Money{
		"37000": 3700000, "37000.5": 3700050, "37000.50": 3700050, "0.01": 1, " 12 ": 1200, "007": 700,
		"9999999999999999.99": openimis.MaxMoney,
	}
	for s, want := range good {
		if got, err := openimis.ParseMoney(s); err != nil || got != want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".5", "5.", "5.123", "-5", "+5", "1,000", "1 000", "1e3", "abc", "10000000000000000", "٣٧"} {
		if _, err := openimis.ParseMoney(s); err == nil {
			t.Errorf("ParseMoney(%q) accepted", s)
		}
	}
	if s := openimis.Money(3700050).String(); s != "37000.50" {
		t.Errorf("String() = %q", s)
	}
	if s := openimis.Money(-5).String(); s != "-0.05" {
		t.Errorf("String() = %q", s)
	}
	for m, want := range map[openimis.Money]string{3700000: "37,000", 125050: "1,250.50", 99: "0.99", 100000000: "1,000,000"} {
		if got := m.Format(); got != want {
			t.Errorf("Format(%d) = %q, want %q", m, got, want)
		}
	}
}
