package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// simulate dials the running gateway as Africa's Talking would for a phone:
// every line typed is one USSD input, appended to the session's transcript.
func simulate(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "sim",
		"Dial the running gateway like a feature phone. Type the digits of each screen's choice and\n"+
			"press Enter; an empty line after a final screen dials again; 'q' (or end of input) quits.",
		[][2]string{{"AT_CALLBACK_TOKEN", "callback token to use when --token is not given"}})
	base := fs.String("url", "http://localhost:8080", "base URL of the gateway")
	token := fs.String("token", "", "Africa's Talking callback token (default AT_CALLBACK_TOKEN, else \""+devToken+"\")")
	phone := fs.String("phone", "+255712111222", "phone number that dials (E.164)")
	code := fs.String("code", "*384*1234#", "USSD service code dialled")
	route := fs.String("route", "", "pre-dialled route after the service code, e.g. 1*101000001 for *384*1234*1*101000001#")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for each screen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		*token = firstNonEmpty(env.getenv("AT_CALLBACK_TOKEN"), devToken)
	}
	d := &dialer{
		endpoint: strings.TrimRight(*base, "/") + "/ussd/africastalking/" + url.PathEscape(*token),
		phone:    *phone,
		code:     *code,
		client:   &http.Client{Timeout: *timeout},
		out:      env.stdout,
	}
	fmt.Fprintf(env.stdout, "Dialling %s from %s (gateway %s)\n", *code, *phone, *base)

	in := bufio.NewScanner(env.stdin)
	for {
		end, err := d.dial(ctx, *route)
		for err == nil && !end {
			fmt.Fprint(env.stdout, "> ")
			if !in.Scan() {
				return in.Err()
			}
			line := strings.TrimSpace(in.Text())
			if line == "q" {
				return nil
			}
			end, err = d.send(ctx, line)
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

// dialer keeps one simulated session's transcript.
type dialer struct {
	endpoint, phone, code string
	client                *http.Client
	out                   io.Writer

	session    string
	transcript string
}

// dial starts a new session, with an optional pre-dialled route.
func (d *dialer) dial(ctx context.Context, route string) (end bool, err error) {
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // never fails
	d.session = "sim-" + hex.EncodeToString(b)
	d.transcript = route
	return d.post(ctx)
}

func (d *dialer) send(ctx context.Context, input string) (end bool, err error) {
	if d.transcript == "" {
		d.transcript = input
	} else {
		d.transcript += "*" + input
	}
	return d.post(ctx)
}

func (d *dialer) post(ctx context.Context) (end bool, err error) {
	form := url.Values{
		"sessionId":   {d.session},
		"serviceCode": {d.code},
		"phoneNumber": {d.phone},
		"networkCode": {"99999"},
		"text":        {d.transcript},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return true, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.client.Do(req)
	if err != nil {
		return true, fmt.Errorf("gateway unreachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return true, err
	}
	if resp.StatusCode != http.StatusOK {
		return true, fmt.Errorf("gateway answered %s (wrong --token or --url?)", resp.Status)
	}
	text := string(body)
	switch {
	case strings.HasPrefix(text, "CON "):
		d.show(text[4:], false)
		return false, nil
	case strings.HasPrefix(text, "END "):
		d.show(text[4:], true)
		return true, nil
	default:
		return true, fmt.Errorf("malformed reply %q", text)
	}
}

// show draws the screen as a phone would, with its length: aggregators cut
// screens longer than about 160 characters.
func (d *dialer) show(text string, end bool) {
	const width = 32
	rule := strings.Repeat("-", width)
	fmt.Fprintln(d.out, "+"+rule+"+")
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintln(d.out, "| "+line)
	}
	state := "waiting for input"
	if end {
		state = "session ended"
	}
	fmt.Fprintf(d.out, "+%s+ %d chars, %s\n", rule, len([]rune(text)), state)
}
