package main

import (
	"context"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/gateway"
	"github.com/openimis/imis-gateway/providers"
)

type sender struct{ configured bool }

func (sender) Send(context.Context, string, string) (providers.SendResult, error) {
	return providers.SendResult{}, nil
}
func (s sender) Configured() bool { return s.configured }

// TestChooseSMSProvider: USSD renewals are confirmed through the provider
// named, else the first one configured to send, else the first.
func TestChooseSMSProvider(t *testing.T) {
	none := map[string]gateway.Sender{"africastalking": sender{}, "twilio": sender{}}
	twilioOnly := map[string]gateway.Sender{"africastalking": sender{}, "twilio": sender{configured: true}}
	tests := []struct {
		named   string
		senders map[string]gateway.Sender
		want    string
		problem string
	}{
		{"", none, "africastalking", ""},
		{"", twilioOnly, "twilio", ""},
		{"africastalking", twilioOnly, "africastalking", ""},
		{"hubtel", none, "", `SMS_PROVIDER "hubtel": want africastalking or twilio`},
	}
	for _, tt := range tests {
		var problems []string
		got := chooseSMSProvider(tt.named, tt.senders, &problems)
		if got != tt.want || strings.Join(problems, "") != tt.problem {
			t.Errorf("chooseSMSProvider(%q) = %q, %q; want %q, %q", tt.named, got, problems, tt.want, tt.problem)
		}
	}
}
