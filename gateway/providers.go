package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/registry"
)

// The gateway serves each registered provider (providers/registry) that the
// configuration enables, on the routes the provider declares; a route's kind
// picks the gateway's handler. What a request looks like on the wire is the
// provider package's business alone.

// mountProviders adds the callbacks of every enabled provider to r: its USSD
// routes under /ussd/<name>/{token}, and its SMS routes under
// /sms/<name>/{token} when the gateway takes SMS.
func (s *Server) mountProviders(r chi.Router) {
	for _, p := range registry.All() {
		pc := s.cfg.Providers[p.Name]
		if pc.Token == "" {
			continue
		}
		if p.USSD != nil {
			s.mount(r, p, providers.USSDPath(p.Name, "{token}"), pc, p.USSD.Routes)
		}
		if p.SMS != nil && s.sms != nil {
			s.mount(r, p, providers.SMSPath(p.Name, "{token}"), pc, p.SMS.Routes)
		}
	}
}

// mount serves routes under base, behind the provider's token, allow-list,
// the body limit and, last, its signature check, which reads the body.
func (s *Server) mount(r chi.Router, p providers.Provider, base string, pc ProviderConfig, routes []providers.HTTPRoute) {
	r.Route(base, func(r chi.Router) {
		r.Use(requireToken(pc.Token), allowFrom(pc.AllowFrom, s.cfg.TrustedProxies), s.limitBody)
		if pc.Signature != nil {
			r.Use(RequireSignature(p.Name, pc.Signature, s.log))
		}
		for _, route := range routes {
			r.Method(route.Method, route.Pattern, s.handler(p, route.Kind))
		}
	})
}

// handler is the gateway's handler of a route of kind. A kind it does not
// know is a provider package's mistake, found when the server is built.
func (s *Server) handler(p providers.Provider, kind providers.RouteKind) http.Handler {
	switch kind {
	case providers.RouteHop:
		return s.hopHandler(p.USSD)
	case providers.RouteSessionEnd:
		return s.sessionEnd(p)
	case providers.RouteSessionStatus:
		return s.sessionStatus(p)
	case providers.RouteInboundSMS:
		return NewInboundSMSHandler(p.SMS, s.sms.Store, s.sms.Wake, s.log)
	case providers.RouteDeliveryReport:
		return NewDeliveryReportHandler(p.SMS, deliveriesCounted{s.sms.Store, s.metrics}, s.log)
	}
	panic(fmt.Sprintf("provider %s declares a route of unknown kind %d", p.Name, kind))
}

// sessionEnd handles a provider's end-of-session notification. It only
// cleans up, never triggers writes.
func (s *Server) sessionEnd(p providers.Provider) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ev, err := p.USSD.ParseEnd(r)
		if err != nil {
			rejectRequest(w, r, s.log, err)
			return
		}
		if err := s.ussd.sessions.End(r.Context(), p.Name, ev.SessionID); err != nil {
			// The session expires with its TTL anyway; the aggregator must
			// still get its 200.
			s.log.Warn("end session", "req", middleware.GetReqID(r.Context()), "err", err)
		}
		s.log.Info("session ended", "req", middleware.GetReqID(r.Context()), "provider", p.Name,
			"session", ev.SessionID, "phone", maskPhone(ev.Phone), "status", ev.Status, "hops", ev.Hops,
			"error", ev.Error)
		writeOK(w)
	}
}

// sessionStatus answers a provider asking whether the gateway still holds a
// session.
func (s *Server) sessionStatus(p providers.Provider) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		active, err := s.ussd.sessions.Active(r.Context(), p.Name, p.USSD.StatusSession(r))
		if err != nil {
			s.log.Warn("session status", "req", middleware.GetReqID(r.Context()), "err", err)
		}
		w.Header().Set("Content-Type", p.USSD.ContentType)
		w.Write(p.USSD.StatusBody(active)) //nolint:errcheck
	}
}

// RequireSignature passes on only the requests of provider that sig finds
// genuine. Others get 403 with no body (413 when the body is too large to
// check). It reads and puts back the body, so put it after the body limit
// and before the handler. A signature that no request can pass (sig.Problem)
// is logged at once.
func RequireSignature(provider string, sig *providers.Signature, log *slog.Logger) func(http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if sig.Problem != nil {
		log.Error(provider+": callbacks cannot be verified; every one will get 403", "err", sig.Problem, "hint", sig.Hint)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := sig.Check(r)
			if err == nil {
				next.ServeHTTP(w, r)
				return
			}
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				rejectRequest(w, r, log, err)
				return
			}
			// The error names what failed (missing header, mismatch), never
			// the parameters: no phone number reaches the log.
			log.Warn(provider+" callback refused: bad signature", "req", middleware.GetReqID(r.Context()),
				"route", routePattern(r), "err", err, "hint", sig.Hint)
			w.WriteHeader(http.StatusForbidden)
		})
	}
}

// rejectRequest answers a request that cannot come from a genuine
// aggregator or provider: 413 when too large, 400 otherwise, with a
// one-line reason in the log.
func rejectRequest(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := http.StatusBadRequest
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
	}
	log.Info("rejected request", "req", middleware.GetReqID(r.Context()), "route", routePattern(r),
		"status", status, "err", err)
	http.Error(w, http.StatusText(status), status)
}

// writeOK acknowledges a callback whose provider expects no answer in
// particular.
func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("OK")) //nolint:errcheck // the provider hung up; it will retry
}
