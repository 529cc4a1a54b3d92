// Package simphone plays the aggregator's side of USSD: it calls a running
// gateway exactly as one of the registered providers would for one
// subscriber, in that provider's wire format (providers.Client). The
// terminal simulator and the end-to-end tests use it.
package simphone

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/internal/smsapi"
	"github.com/openimis/imis-gateway/providers/registry"
)

// Providers lists the wire formats a Phone speaks: every registered
// provider that carries USSD.
var Providers = registry.Names(registry.USSD())

// Screen is what the phone displays after a hop.
type Screen struct {
	Text string
	End  bool // the gateway closed the session
}

// Phone is one subscriber dialling one service code through one aggregator.
type Phone struct {
	Provider    string // one of Providers
	BaseURL     string // the gateway, e.g. http://localhost:8080
	Token       string // the provider's callback token
	MSISDN      string // E.164, e.g. +255712111222
	ServiceCode string // e.g. *384*1234#
	Client      *http.Client

	wire       providers.Client // the provider's side of its wire
	session    string
	transcript string // every input, '*'-joined: what accumulated wires send
	seq        int    // hops sent in this session
	last       providers.Request
}

// New returns a Phone for provider, or an error naming the known ones.
func New(provider, baseURL, token, msisdn, serviceCode string, client *http.Client) (*Phone, error) {
	p, ok := registry.Lookup(provider)
	if !ok || p.USSD == nil {
		return nil, fmt.Errorf("unknown provider %q (known: %s)", provider, strings.Join(Providers, ", "))
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &Phone{Provider: provider, BaseURL: strings.TrimRight(baseURL, "/"), Token: token,
		MSISDN: msisdn, ServiceCode: serviceCode, Client: client, wire: p.USSD.Client}, nil
}

// Dial starts a new session; route is a pre-dialled route ("1*48213" for
// *384*1234*1*48213#), empty for a plain dial.
func (p *Phone) Dial(ctx context.Context, route string) (Screen, error) {
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // never fails
	p.session = "sim" + hex.EncodeToString(b)
	p.seq = 1
	p.transcript = route
	dialled := p.ServiceCode
	if route != "" {
		dialled = strings.TrimSuffix(p.ServiceCode, "#") + "*" + route + "#"
	}
	if err := p.load(true, dialled); err != nil {
		return Screen{End: true}, err
	}
	return p.Retry(ctx)
}

// Send answers the current screen with input.
func (p *Phone) Send(ctx context.Context, input string) (Screen, error) {
	if err := p.next(input); err != nil {
		return Screen{End: true}, err
	}
	return p.Retry(ctx)
}

// SendCopies answers the current screen with input n times at once, as an
// aggregator that retries before the first answer arrives. It returns every
// answer, in no particular order, and the errors of those that failed.
func (p *Phone) SendCopies(ctx context.Context, input string, n int) ([]Screen, error) {
	if err := p.next(input); err != nil {
		return nil, err
	}
	screens, errs := make([]Screen, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { screens[i], errs[i] = p.Retry(ctx) })
	}
	wg.Wait()
	return screens, errors.Join(errs...)
}

// next makes input the hop Retry sends.
func (p *Phone) next(input string) error {
	p.seq++
	if p.transcript == "" {
		p.transcript = input
	} else {
		p.transcript += "*" + input
	}
	return p.load(false, input)
}

// load makes the hop carrying input the one Retry sends.
func (p *Phone) load(start bool, input string) error {
	req, err := p.wire.Hop(p.call(start, input))
	if err != nil {
		return err
	}
	p.last = req
	return nil
}

// Session is the current session's id.
func (p *Phone) Session() string { return p.session }

// call is where the session stands for the request being built.
func (p *Phone) call(start bool, input string) providers.Call {
	return providers.Call{URL: p.BaseURL + providers.USSDPath(p.Provider, url.PathEscape(p.Token)), Session: p.session,
		MSISDN: p.MSISDN, ServiceCode: p.ServiceCode, Seq: p.seq, Start: start, Input: input, Transcript: p.transcript}
}

// Retry sends the last hop again, byte for byte, as an aggregator retrying
// after a lost reply would.
func (p *Phone) Retry(ctx context.Context) (Screen, error) {
	raw, err := p.do(ctx, p.last)
	if err != nil {
		return Screen{End: true}, err
	}
	rep, err := p.wire.Read(raw)
	if err != nil {
		return Screen{End: true}, fmt.Errorf("reply %q: %w", raw, err)
	}
	return Screen(rep), nil
}

// Hangup sends the aggregator's end-of-session signal, where its wire has
// one (AT's events notification, Hubtel Release, Infobip /end, Beem
// terminate); it does nothing on the others.
func (p *Phone) Hangup(ctx context.Context) error {
	if p.wire.Hangup == nil {
		return nil
	}
	c := p.call(false, "")
	c.Seq++
	req, err := p.wire.Hangup(c)
	if err != nil {
		return err
	}
	_, err = p.do(ctx, req)
	return err
}

func (p *Phone) do(ctx context.Context, r providers.Request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, smsapi.WithoutURL(err)
	}
	req.Header.Set("Content-Type", r.ContentType)
	resp, err := p.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("gateway unreachable: %w", smsapi.WithoutURL(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway answered %s (wrong token or URL?)", resp.Status)
	}
	return raw, nil
}
