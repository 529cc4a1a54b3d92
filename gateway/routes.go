package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/infobip"
	"github.com/openimis/imis-gateway/providers/twilio"
)

// routes maps the whole public HTTP surface in one place.
func (s *Server) routes(metrics http.Handler) http.Handler {
	r := s.newRouter()
	r.Get("/healthz", healthz)
	r.Get("/readyz", s.readyz(false))
	if !s.cfg.MetricsOnAdmin {
		r.Method(http.MethodGet, "/metrics", metrics)
	}
	if s.cfg.Simulator {
		r.Get("/simulator", simulator(s.cfg.SimulatorToken))
	}

	for _, name := range USSDProviders {
		pc := s.cfg.Providers[name]
		if pc.Token == "" {
			continue
		}
		wire := ussdWires[name]
		r.Route(USSDPath(name, "{token}"), func(r chi.Router) {
			r.Use(requireToken(pc.Token), allowFrom(pc.AllowFrom, s.cfg.TrustedProxies), s.limitBody)
			switch name {
			case africastalking.Name:
				r.Post("/", s.ussdHop(wire))
				r.Post("/events", s.atSessionEvent)
			case infobip.Name:
				r.Post("/session/{session}/{action:start|response|end}", s.ussdHop(wire))
				r.Put("/session/{session}/{action:end}", s.ussdHop(wire))
				r.Get("/session/{session}/status", s.infobipStatus)
			default:
				r.Post("/", s.ussdHop(wire))
			}
		})
	}
	if at := s.cfg.Providers[africastalking.Name]; at.Token != "" && s.sms != nil {
		r.Route(smsPath(africastalking.Name, "{token}"), func(r chi.Router) {
			r.Use(requireToken(at.Token), allowFrom(at.AllowFrom, s.cfg.TrustedProxies), s.limitBody)
			r.Method(http.MethodPost, "/inbound", NewInboundSMSHandler(ParseATInboundSMS, s.sms.Store, s.sms.Wake, s.log))
			r.Method(http.MethodPost, "/delivery", NewDeliveryReportHandler(ParseATDeliveryReport, s.sms.Store, s.log))
		})
	}
	if tw := s.cfg.Twilio; tw.Token != "" && s.sms != nil {
		// No allow-list: Twilio publishes no fixed webhook addresses; its
		// signature authenticates the request instead.
		r.Route(smsPath(twilio.Name, "{token}"), func(r chi.Router) {
			r.Use(requireToken(tw.Token), s.limitBody, RequireTwilioSignature(tw.AuthToken, tw.PublicURL, s.log))
			r.Method(http.MethodPost, "/inbound", NewTwilioInboundHandler(s.sms.Store, s.sms.Wake, s.log))
			r.Method(http.MethodPost, twilioStatus, NewDeliveryReportHandler(ParseTwilioDeliveryReport, s.sms.Store, s.log))
		})
	}
	return r
}

// adminRoutes is the operators' surface (Server.Admin).
func (s *Server) adminRoutes(metrics http.Handler) http.Handler {
	r := s.newRouter()
	r.Get("/healthz", healthz)
	r.Get("/readyz", s.readyz(true))
	r.Method(http.MethodGet, "/metrics", metrics)
	return r
}

func (s *Server) newRouter() chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.accessLog, s.recoverPanics)
	r.NotFound(notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})
	return r
}

// USSDPath is where a provider's USSD callbacks arrive, for token: what an
// implementer sets in the aggregator's dashboard.
func USSDPath(provider, token string) string { return "/ussd/" + provider + "/" + token }

func smsPath(provider, token string) string { return "/sms/" + provider + "/" + token }

const twilioStatus = "/status"

// TwilioStatusPath is where Twilio's status callbacks arrive, for token: the
// StatusCallback sent with every message.
func TwilioStatusPath(token string) string { return smsPath(twilio.Name, token) + twilioStatus }

func notFound(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNotFound)
}
