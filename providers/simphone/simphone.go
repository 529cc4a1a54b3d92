// Package simphone plays the aggregator's side of USSD: it calls a running
// gateway exactly as Africa's Talking, Hubtel, Nalo, Arkesel, Infobip or Beem
// would for one subscriber, in that aggregator's wire format. The terminal
// simulator and the end-to-end tests use it.
package simphone

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/arkesel"
	"github.com/openimis/imis-gateway/providers/beem"
	"github.com/openimis/imis-gateway/providers/hubtel"
	"github.com/openimis/imis-gateway/providers/infobip"
	"github.com/openimis/imis-gateway/providers/internal/smsapi"
	"github.com/openimis/imis-gateway/providers/internal/wire"
	"github.com/openimis/imis-gateway/providers/nalo"
)

// Providers lists the wire formats a Phone speaks.
var Providers = []string{africastalking.Name, hubtel.Name, nalo.Name, arkesel.Name, infobip.Name, beem.Name}

// formType is what AT posts; the package keeps its own copy unexported.
const formType = "application/x-www-form-urlencoded"

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

	session    string
	transcript string // AT: the accumulated input
	seq        int    // hops sent in this session
	last       request
}

// request is one call to the gateway, kept so that Retry can repeat it.
type request struct {
	method, endpoint, contentType string
	payload                       []byte
}

// New returns a Phone for provider, or an error naming the known ones.
func New(provider, baseURL, token, msisdn, serviceCode string, client *http.Client) (*Phone, error) {
	if !slices.Contains(Providers, provider) {
		return nil, fmt.Errorf("unknown provider %q (known: %s)", provider, strings.Join(Providers, ", "))
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &Phone{Provider: provider, BaseURL: strings.TrimRight(baseURL, "/"), Token: token,
		MSISDN: msisdn, ServiceCode: serviceCode, Client: client}, nil
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
	req, err := p.request(start, input)
	if err != nil {
		return err
	}
	p.last = req
	return nil
}

// Session is the current session's id.
func (p *Phone) Session() string { return p.session }

// request builds the hop in the provider's wire format.
func (p *Phone) request(start bool, input string) (request, error) {
	number := strings.TrimPrefix(p.MSISDN, "+")
	bareCode := strings.TrimSuffix(strings.TrimPrefix(p.ServiceCode, "*"), "#")
	endpoint := p.BaseURL + "/ussd/" + p.Provider + "/" + url.PathEscape(p.Token)
	var (
		contentType = wire.JSONType
		body        any
	)
	switch p.Provider {
	case africastalking.Name:
		contentType = formType
		body = url.Values{"sessionId": {p.session}, "serviceCode": {p.ServiceCode}, "phoneNumber": {p.MSISDN},
			"networkCode": {"99999"}, "text": {p.transcript}}.Encode()
	case hubtel.Name:
		typ := hubtel.TypeResponse
		if start {
			typ = hubtel.TypeInitiation
		}
		body = map[string]any{"SessionId": p.session, "Mobile": number, "ServiceCode": bareCode, "Type": typ,
			"Message": typed(input), "Operator": "vodafone", "ClientState": "", "Sequence": p.seq, "Platform": "USSD"}
	case nalo.Name:
		body = map[string]any{"USERID": "SIMULATOR", "MSISDN": number, "USERDATA": typed(input), "MSGTYPE": start,
			"NETWORK": "MTN", "SESSIONID": p.session}
	case arkesel.Name:
		body = map[string]any{"sessionID": p.session, "userID": "SIMULATOR", "newSession": start, "msisdn": number,
			"userData": typed(input), "network": "MTN"}
	case beem.Name:
		command, response := beem.CommandContinue, input
		if start {
			command, response = beem.CommandInitiate, ""
		}
		body = map[string]any{"session_id": p.session, "msisdn": number, "operator": "vodacom", "command": command,
			"payload": map[string]any{"request_id": fmt.Sprintf("%s-%d", p.session, p.seq), "response": typed(response)}}
	case infobip.Name:
		action := infobip.ActionResponse
		fields := map[string]any{"msisdn": number, "text": typed(input)}
		if start {
			action = infobip.ActionStart
			fields["shortCode"] = p.ServiceCode
		}
		endpoint += "/session/" + p.session + "/" + action
		body = fields
	}
	return newRequest(http.MethodPost, endpoint, contentType, body)
}

// typed is the user's input in a JSON body, written byte for byte as an
// aggregator relays what the handset sent, also when it is not valid UTF-8
// (a terminal in another encoding): encoding/json would send U+FFFD instead,
// and the gateway would never see the bytes it must cope with.
type typed string

func (s typed) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, len(s)+2), '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = fmt.Appendf(b, `\u%04x`, c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), nil
}

// Retry sends the last hop again, byte for byte, as an aggregator retrying
// after a lost reply would.
func (p *Phone) Retry(ctx context.Context) (Screen, error) {
	raw, err := p.do(ctx, p.last)
	if err != nil {
		return Screen{End: true}, err
	}
	return p.screen(raw)
}

// Hangup sends the aggregator's end-of-session signal, where its wire has
// one: AT's events notification, Hubtel Release, Infobip /end, Beem
// terminate. Nalo and Arkesel have none.
func (p *Phone) Hangup(ctx context.Context) error {
	number := strings.TrimPrefix(p.MSISDN, "+")
	endpoint := p.BaseURL + "/ussd/" + p.Provider + "/" + url.PathEscape(p.Token)
	var req request
	var err error
	switch p.Provider {
	case africastalking.Name:
		req, err = newRequest(http.MethodPost, endpoint+"/events", formType,
			url.Values{"sessionId": {p.session}, "serviceCode": {p.ServiceCode}, "phoneNumber": {p.MSISDN},
				"status": {africastalking.StatusSuccess}, "input": {p.transcript}}.Encode())
	case hubtel.Name:
		req, err = newRequest(http.MethodPost, endpoint, wire.JSONType, map[string]any{"SessionId": p.session,
			"Mobile": number, "Type": hubtel.TypeRelease, "Message": "", "Sequence": p.seq + 1, "Platform": "USSD"})
	case beem.Name:
		req, err = newRequest(http.MethodPost, endpoint, wire.JSONType, map[string]any{"session_id": p.session,
			"msisdn": number, "operator": "vodacom", "command": beem.CommandTerminate,
			"payload": map[string]string{"request_id": p.session + "-end", "response": ""}})
	case infobip.Name:
		req, err = newRequest(http.MethodPut, endpoint+"/session/"+p.session+"/"+infobip.ActionEnd, wire.JSONType,
			map[string]any{"exitCode": 0, "reason": "ok"})
	default:
		return nil
	}
	if err != nil {
		return err
	}
	_, err = p.do(ctx, req)
	return err
}

// newRequest encodes body: a string is sent as it is, anything else as JSON.
func newRequest(method, endpoint, contentType string, body any) (request, error) {
	req := request{method: method, endpoint: endpoint, contentType: contentType}
	if s, ok := body.(string); ok {
		req.payload = []byte(s)
		return req, nil
	}
	var err error
	req.payload, err = json.Marshal(body)
	return req, err
}

func (p *Phone) do(ctx context.Context, r request) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.endpoint, bytes.NewReader(r.payload))
	if err != nil {
		return nil, smsapi.WithoutURL(err)
	}
	req.Header.Set("Content-Type", r.contentType)
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

// screen reads a reply in the provider's format.
func (p *Phone) screen(raw []byte) (Screen, error) {
	var s Screen
	var err error
	switch p.Provider {
	case africastalking.Name:
		text := string(raw)
		switch {
		case strings.HasPrefix(text, "CON "):
			s.Text = text[4:]
		case strings.HasPrefix(text, "END "):
			s.Text, s.End = text[4:], true
		default:
			err = fmt.Errorf("malformed reply %q", text)
		}
	case hubtel.Name:
		var r struct{ Type, Message string }
		err = json.Unmarshal(raw, &r)
		s = Screen{Text: r.Message, End: r.Type != hubtel.TypeResponse}
	case nalo.Name:
		var r struct {
			MSG     string
			MSGTYPE bool
		}
		err = json.Unmarshal(raw, &r)
		s = Screen{Text: r.MSG, End: !r.MSGTYPE}
	case arkesel.Name:
		var r struct {
			Message         string `json:"message"`
			ContinueSession bool   `json:"continueSession"`
		}
		err = json.Unmarshal(raw, &r)
		s = Screen{Text: r.Message, End: !r.ContinueSession}
	case beem.Name:
		var r struct {
			Command string            `json:"command"`
			Payload map[string]string `json:"payload"`
		}
		err = json.Unmarshal(raw, &r)
		s = Screen{Text: r.Payload["request"], End: r.Command != beem.CommandContinue}
	case infobip.Name:
		var r struct {
			USSDMenu    string `json:"ussdMenu"`
			ShouldClose bool   `json:"shouldClose"`
		}
		err = json.Unmarshal(raw, &r)
		s = Screen{Text: r.USSDMenu, End: r.ShouldClose}
	}
	if err != nil {
		return Screen{End: true}, fmt.Errorf("reply %q: %w", raw, err)
	}
	return s, nil
}
