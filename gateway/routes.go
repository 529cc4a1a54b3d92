package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/openimis/imis-gateway/providers/africastalking"
)

// routes maps the whole HTTP surface in one place.
func (s *Server) routes(reg *prometheus.Registry) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.accessLog, s.recoverPanics)
	r.NotFound(notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})

	r.Get("/healthz", healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	if token := s.cfg.Tokens[africastalking.Name]; token != "" {
		r.Route("/ussd/"+africastalking.Name+"/{token}", func(r chi.Router) {
			r.Use(requireToken(token), s.limitBody)
			r.Post("/", s.ussdHop(atUSSD))
			r.Post("/events", s.atSessionEvent)
		})
	}
	return r
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNotFound)
}
