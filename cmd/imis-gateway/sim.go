package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/openimis/imis-gateway/conversation"
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
	record := fs.String("record", "", "write the session, each input and screen, to this conversation file\n"+
		"(for check-conversations; see docs/conversations.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	phone, err := simphone.New(*provider, *base, callbackToken(env, *provider, *token), *msisdn, *code, &http.Client{Timeout: *timeout})
	if err != nil {
		return err
	}
	recorder, closeRecord, err := startRecording(*record, *msisdn, *provider, *code)
	if err != nil {
		return err
	}
	defer closeRecord()
	fmt.Fprintf(env.stdout, "Dialling %s from %s through %s (gateway %s)\n", *code, *msisdn, *provider, *base)

	in := bufio.NewScanner(env.stdin)
	for {
		screen, err := phone.Dial(ctx, *route)
		if err != nil {
			// Nothing a retry would fix: the wrong URL, token or provider.
			return err
		}
		if err := recorder.Dial(*route, screen); err != nil {
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
			if screen, err = phone.Send(ctx, line); err == nil {
				err = recorder.Send(line, screen)
			}
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

// startRecording opens the conversation file sim --record names; without
// one, the recorder it returns writes nowhere.
func startRecording(path, msisdn, provider, code string) (*conversation.Recorder, func(), error) {
	if path == "" {
		r, err := conversation.NewRecorder(io.Discard, msisdn, provider, code)
		return r, func() {}, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := conversation.NewRecorder(f, msisdn, provider, code)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, func() { f.Close() }, nil
}

// callbackToken is the token to call provider's callbacks with: given is
// --token, else the provider's <NAME>_CALLBACK_TOKEN, else serve --dev's.
func callbackToken(env *environment, provider, given string) string {
	if p, ok := registry.Lookup(provider); ok && given == "" {
		given = env.getenv(p.EnvPrefix + "CALLBACK_TOKEN")
	}
	return cmp.Or(given, devToken)
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
