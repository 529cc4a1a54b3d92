package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/providers/registry"
	"github.com/openimis/imis-gateway/providers/simphone"
)

// simulate dials the running gateway as an aggregator would for a phone:
// every line typed is one USSD input, sent in the chosen aggregator's format.
func simulate(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "sim",
		"Dial the running gateway like a feature phone. Type the digits of each screen's choice and\n"+
			"press Enter; an empty line after a final screen dials again; 'q' (or end of input) quits.",
		[][2]string{{"<NAME>_CALLBACK_TOKEN", "callback token to use when --token is not given (" + simTokenExample() + ")"}})
	base := fs.String("url", "http://localhost:8080", "base URL of the gateway")
	provider := fs.String("provider", registry.Default().Name, "wire format to speak: "+strings.Join(simphone.Providers, ", "))
	token := fs.String("token", "", "the provider's callback token (default <NAME>_CALLBACK_TOKEN, else \""+devToken+"\")")
	msisdn := fs.String("phone", "+255712111222", "phone number that dials (E.164)")
	code := fs.String("code", "*384*1234#", "USSD service code dialled")
	route := fs.String("route", "", "pre-dialled route after the service code, e.g. 1*48213 for *384*1234*1*48213#")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for each screen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if p, ok := registry.Lookup(*provider); ok && *token == "" {
		*token = env.getenv(p.EnvPrefix + "CALLBACK_TOKEN")
	}
	*token = cmp.Or(*token, devToken)
	phone, err := simphone.New(*provider, *base, *token, *msisdn, *code, &http.Client{Timeout: *timeout})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "Dialling %s from %s through %s (gateway %s)\n", *code, *msisdn, *provider, *base)

	in := bufio.NewScanner(env.stdin)
	for {
		screen, err := phone.Dial(ctx, *route)
		if err != nil {
			// Nothing a retry would fix: the wrong URL, token or provider.
			return err
		}
		for err == nil {
			show(env.stdout, screen)
			if screen.End {
				break
			}
			fmt.Fprint(env.stdout, "> ")
			if !in.Scan() {
				return in.Err()
			}
			line := strings.TrimSpace(in.Text())
			if line == "q" {
				return nil
			}
			screen, err = phone.Send(ctx, line)
		}
		if err != nil {
			fmt.Fprintf(env.stdout, "!! %v\n", err)
		}
		fmt.Fprint(env.stdout, "[session ended: Enter dials again, q quits] ")
		if !in.Scan() || strings.TrimSpace(in.Text()) == "q" {
			fmt.Fprintln(env.stdout)
			return in.Err()
		}
	}
}

// simTokenExample names the first two providers' token variables:
// "AT_CALLBACK_TOKEN, HUBTEL_...".
func simTokenExample() string {
	ussd := registry.USSD()
	return ussd[0].EnvPrefix + "CALLBACK_TOKEN, " + ussd[1].EnvPrefix + "..."
}

// show draws the screen as a phone would, with its length: aggregators cut
// screens longer than about 160 characters.
func show(w io.Writer, s simphone.Screen) {
	rule := strings.Repeat("-", 32)
	fmt.Fprintln(w, "+"+rule+"+")
	for _, line := range strings.Split(s.Text, "\n") {
		fmt.Fprintln(w, "| "+line)
	}
	state := "waiting for input"
	if s.End {
		state = "session ended"
	}
	fmt.Fprintf(w, "+%s+ %d chars, %s\n", rule, len([]rune(s.Text)), state)
}
