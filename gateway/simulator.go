package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/openimis/imis-gateway/menus"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/registry"
)

// The browser phone simulator (README.md, "Try it like a phone") is one page
// for every enabled provider. The page knows no wire format: it posts each
// hop as a providers.Call to /simulator/hop, which builds the provider's
// request with that provider's Client (as the terminal simulator does),
// serves it through the gateway's own routes, token check included, and
// reads the answer with the Client again.
//
// In development (Config.SimulatorDev) the page also has a language picker
// and an SMS pane. Their endpoints change any phone's language and show any
// phone's SMS, so they exist nowhere else.

//go:embed simulator.html
var simulatorHTML string

var simulatorTemplate = template.Must(template.New("simulator").Parse(simulatorHTML))

// simulatorView is what the page is rendered from.
type simulatorView struct {
	Providers []simulatorProvider
	// Languages fill the language picker; none hides it.
	Languages []menus.Language
	// SMSTitle names the provider the SMS pane's messages arrive by; empty
	// hides the pane.
	SMSTitle string
}

// simulatorProvider is one choice of the provider picker. Token is its
// callback token in development, empty elsewhere (the user types it).
type simulatorProvider struct{ Name, Title, Token string }

// outboxShown is how many of a phone's newest messages the SMS pane shows.
const outboxShown = 20

// SimulatorOutbox reads the messages queued for a phone, for the SMS pane
// (*policystore.Store).
type SimulatorOutbox interface {
	OutboxTo(ctx context.Context, recipient string, limit int) ([]policystore.OutboxEntry, error)
}

// mountSimulator serves the simulator when the configuration asks for it.
func (s *Server) mountSimulator(r chi.Router) {
	if !s.cfg.Simulator {
		return
	}
	view := simulatorView{}
	for _, p := range registry.USSD() {
		pc := s.cfg.Providers[p.Name]
		if pc.Token == "" {
			continue
		}
		choice := simulatorProvider{Name: p.Name, Title: p.Title}
		if s.cfg.SimulatorDev {
			choice.Token = pc.Token
		}
		view.Providers = append(view.Providers, choice)
	}
	r.Post("/simulator/hop", s.simulatorHop)
	if s.cfg.SimulatorDev && s.ussd.menus != nil {
		view.Languages = s.ussd.menus.Languages()
		r.Get("/simulator/language", s.simulatorLanguage)
		r.Post("/simulator/language", s.simulatorSetLanguage)
	}
	if sms, ok := s.simulatorSMSProvider(); ok {
		view.SMSTitle = sms.Title
		r.Post("/simulator/sms", s.simulatorSendSMS(sms.Name))
		r.Get("/simulator/outbox", s.simulatorOutbox)
	}
	r.Get("/simulator", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		simulatorTemplate.Execute(w, view) //nolint:errcheck // the browser went away
	})
}

// simulatorSMSProvider is the provider the SMS pane's messages arrive by:
// the first whose SMS callbacks the gateway serves. There is none outside
// development, or without the SMS dependencies.
func (s *Server) simulatorSMSProvider() (providers.Provider, bool) {
	if !s.cfg.SimulatorDev || s.sms == nil || s.sms.Outbox == nil {
		return providers.Provider{}, false
	}
	for _, p := range registry.All() {
		if p.SMS != nil && s.cfg.Providers[p.Name].Token != "" {
			return p, true
		}
	}
	return providers.Provider{}, false
}

// simulatorCall is a hop the page asks to send: a providers.Call, the
// provider and its token, or the provider's hang-up.
type simulatorCall struct {
	Provider    string `json:"provider"`
	Token       string `json:"token"`
	Session     string `json:"session"`
	Phone       string `json:"phone"`
	ServiceCode string `json:"code"`
	Seq         int    `json:"seq"`
	Start       bool   `json:"start"`
	Input       string `json:"input"`
	Transcript  string `json:"transcript"`
	Hangup      bool   `json:"hangup"`
}

// simulatorAnswer is what the page shows of a hop: the screen, and the
// exchange on the wire.
type simulatorAnswer struct {
	Screen string         `json:"screen"`
	End    bool           `json:"end"`
	Error  string         `json:"error,omitempty"`
	Sent   *simulatorWire `json:"sent,omitempty"`
	Reply  *simulatorWire `json:"reply,omitempty"`
}

// simulatorWire is one HTTP message as the aggregator and the gateway
// exchange it.
type simulatorWire struct {
	Method      string `json:"method,omitempty"`
	Path        string `json:"path,omitempty"`
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
}

// simulatorHop relays one hop of the page through the provider's Client.
func (s *Server) simulatorHop(w http.ResponseWriter, r *http.Request) {
	var c simulatorCall
	if !readSimulatorJSON(w, r, &c) {
		return
	}
	p, ok := registry.Lookup(c.Provider)
	if !ok || p.USSD == nil || s.cfg.Providers[p.Name].Token == "" {
		http.Error(w, "provider not enabled", http.StatusBadRequest)
		return
	}
	call := providers.Call{URL: providers.USSDPath(p.Name, url.PathEscape(c.Token)), Session: c.Session,
		MSISDN: c.Phone, ServiceCode: c.ServiceCode, Seq: c.Seq, Start: c.Start, Input: c.Input, Transcript: c.Transcript}
	build := p.USSD.Client.Hop
	if c.Hangup {
		if p.USSD.Client.Hangup == nil {
			writeSimulatorJSON(w, simulatorAnswer{End: true})
			return
		}
		build = p.USSD.Client.Hangup
	}
	req, err := build(call)
	if err != nil {
		writeSimulatorJSON(w, simulatorAnswer{End: true, Error: err.Error()})
		return
	}
	answer := simulatorAnswer{Sent: &simulatorWire{Method: req.Method, Path: req.URL, ContentType: req.ContentType, Body: string(req.Body)}}
	reply := s.relay(r, req)
	answer.Reply = &simulatorWire{Status: reply.Code, ContentType: reply.Header().Get("Content-Type"), Body: reply.Body.String()}
	switch {
	case reply.Code == http.StatusNotFound:
		answer.End, answer.Error = true, "the gateway answered 404 (wrong token?)"
	case reply.Code != http.StatusOK:
		answer.End, answer.Error = true, fmt.Sprintf("the gateway answered %d %s", reply.Code, http.StatusText(reply.Code))
	case c.Hangup:
		answer.End = true
	default:
		rep, err := p.USSD.Client.Read(reply.Body.Bytes())
		answer.Screen, answer.End = rep.Text, rep.End || err != nil
		if err != nil {
			answer.Error = err.Error()
		}
	}
	writeSimulatorJSON(w, answer)
}

// relay serves req through the gateway's routes as if it came from the
// page's own client (its address and forwarding header, so that allow-lists
// judge the page's user, not the gateway). The answer is kept in memory: a
// hop's is a screen, a few hundred bytes.
func (s *Server) relay(from *http.Request, req providers.Request) *httptest.ResponseRecorder {
	in, err := http.NewRequestWithContext(from.Context(), req.Method, req.URL, bytes.NewReader(req.Body))
	rec := httptest.NewRecorder()
	if err != nil {
		http.Error(rec, err.Error(), http.StatusBadRequest)
		return rec
	}
	in.RemoteAddr = from.RemoteAddr
	in.Header.Set("Content-Type", req.ContentType)
	if xff := from.Header.Get("X-Forwarded-For"); xff != "" {
		in.Header.Set("X-Forwarded-For", xff)
	}
	s.Handler.ServeHTTP(rec, in)
	return rec
}

// simulatorLanguage answers the language remembered for ?phone=.
func (s *Server) simulatorLanguage(w http.ResponseWriter, r *http.Request) {
	lang, err := s.ussd.menus.LanguageOf(r.Context(), r.URL.Query().Get("phone"))
	if err != nil {
		s.log.Warn("simulator: language of a phone", "req", middleware.GetReqID(r.Context()), "err", err)
	}
	writeSimulatorJSON(w, map[string]string{"lang": lang})
}

// simulatorSetLanguage remembers a phone's language, as the Language menu
// would.
func (s *Server) simulatorSetLanguage(w http.ResponseWriter, r *http.Request) {
	var req struct{ Phone, Lang string }
	if !readSimulatorJSON(w, r, &req) {
		return
	}
	if err := s.ussd.menus.SetLanguageOf(r.Context(), req.Phone, req.Lang); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeSimulatorJSON(w, map[string]string{"lang": req.Lang})
}

// simulatorSendSMS records an SMS from the page's phone as if it had
// arrived by provider, and wakes the inbound processor, as the provider's
// inbound callback does once it has read the wire.
func (s *Server) simulatorSendSMS(provider string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Phone, Text string }
		if !readSimulatorJSON(w, r, &req) {
			return
		}
		if req.Phone == "" || req.Text == "" {
			http.Error(w, "phone and text are required", http.StatusBadRequest)
			return
		}
		id := make([]byte, 8)
		rand.Read(id) //nolint:errcheck // never fails
		m := InboundMessage{Provider: provider, MessageID: "simulator-" + hex.EncodeToString(id), From: req.Phone,
			To: "simulator", Text: req.Text, Received: time.Now().UTC()}
		if _, err := s.sms.Store.RecordInbound(r.Context(), m); err != nil {
			s.log.Warn("simulator: record an SMS", "req", middleware.GetReqID(r.Context()), "err", err)
			http.Error(w, "the SMS could not be recorded", http.StatusServiceUnavailable)
			return
		}
		s.sms.Wake()
		writeSimulatorJSON(w, map[string]string{"id": m.MessageID})
	}
}

// simulatorMessage is an outbox message as the SMS pane shows it.
type simulatorMessage struct {
	ID      int64     `json:"id"`
	Body    string    `json:"body"`
	Purpose string    `json:"purpose"`
	Status  string    `json:"status"`
	Queued  time.Time `json:"queued"`
}

// simulatorOutbox answers the newest messages queued for ?phone=.
func (s *Server) simulatorOutbox(w http.ResponseWriter, r *http.Request) {
	entries, err := s.sms.Outbox.OutboxTo(r.Context(), r.URL.Query().Get("phone"), outboxShown)
	if err != nil {
		s.log.Warn("simulator: read the outbox", "req", middleware.GetReqID(r.Context()), "err", err)
		http.Error(w, "the outbox could not be read", http.StatusServiceUnavailable)
		return
	}
	messages := make([]simulatorMessage, len(entries))
	for i, e := range entries {
		messages[i] = simulatorMessage{ID: e.ID, Body: e.Body, Purpose: e.Purpose, Status: e.Status, Queued: e.CreatedAt}
	}
	writeSimulatorJSON(w, messages)
}

// readSimulatorJSON decodes the page's JSON request into v, or answers the
// error and returns false. Only JSON is taken: a form or text/plain post,
// which another site could make a browser send, is refused.
func readSimulatorJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return false
	}
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, defaultBodyLimit)).Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return false
	case err != nil:
		http.Error(w, "malformed JSON", http.StatusBadRequest)
		return false
	}
	return true
}

func writeSimulatorJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the browser went away
}
