package openimis

import (
	"errors"
	"testing"
)

// TestCheckAmount: up to the value plus what the scheme accepts over it,
// never a cent more, and the refusal names the value.
func TestCheckAmount(t *testing.T) {
	tests := []struct {
		amount, value, over Money
		ok                  bool
	}{
		{Money(37000_00), Money(37000_00), 0, true},
		{Money(20000_00), Money(37000_00), 0, true},
		{Money(37000_00) + 1, Money(37000_00), 0, false},
		{9_999_999_999_999_999_00, Money(37000_00), 0, false},
		{Money(37500_00), Money(37000_00), Money(500_00), true},
		{Money(37500_00) + 1, Money(37000_00), Money(500_00), false},
		{MaxMoney, MaxMoney, MaxMoney, true}, // no overflow
		{MaxMoney, 0, MaxMoney, true},
		{1, 0, 0, false}, // nothing due, nothing accepted
	}
	for _, tt := range tests {
		err := checkAmount(tt.amount, tt.value, tt.over)
		var r *RefusalError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s of %s (+%s): %v", tt.amount, tt.value, tt.over, err)
		case !tt.ok && (!errors.As(err, &r) || !errors.Is(err, ErrAmountTooHigh) || r.Due != tt.value):
			t.Errorf("%s of %s (+%s): %v, want ErrAmountTooHigh naming %s", tt.amount, tt.value, tt.over, err, tt.value)
		}
	}
}
