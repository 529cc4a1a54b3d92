package gateway

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// routes maps the public HTTP surface: the gateway's own routes here, and
// each enabled provider's as its package declares them (mountProviders).
func (s *Server) routes(metrics http.Handler) http.Handler {
	r := s.newRouter()
	r.Get("/healthz", healthz)
	r.Get("/readyz", s.readyz(false))
	if !s.cfg.MetricsOnAdmin {
		r.Method(http.MethodGet, "/metrics", metrics)
	}
	s.mountSimulator(r)
	s.mountProviders(r)
	return r
}

// adminRoutes is the operators' surface (Server.Admin).
func (s *Server) adminRoutes(metrics http.Handler) http.Handler {
	r := s.newRouter()
	r.Get("/healthz", healthz)
	r.Get("/readyz", s.readyz(true))
	r.Method(http.MethodGet, "/metrics", metrics)
	r.Get("/support", s.support())
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

func notFound(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusNotFound)
}
