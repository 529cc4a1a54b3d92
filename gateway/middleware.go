package gateway

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// requireToken answers 404 with no body unless the {token} path segment is
// the provider's secret, compared in constant time: a caller without the
// token learns nothing, not even that the route exists.
func requireToken(token string) func(http.Handler) http.Handler {
	want := []byte(token)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(chi.URLParam(r, "token")), want) != 1 {
				notFound(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody caps what a handler may read; parsers see *http.MaxBytesError.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.BodyLimit)
		next.ServeHTTP(w, r)
	})
}

// accessLog writes one line per request. Paths are logged by route pattern
// so that callback tokens never reach the logs.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelInfo) { // nothing this logs would show
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		level := slog.LevelDebug
		if ww.Status() >= 400 {
			level = slog.LevelInfo
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		s.log.LogAttrs(r.Context(), level, "http",
			slog.String("req", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", routePattern(r)),
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("took", time.Since(start)),
		)
	})
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "(unmatched)"
}

// recoverPanics turns a panic into a bare 500 and a log line: the caller
// never sees a stack trace. USSD hops have their own recovery that still
// answers with a well-formed END screen.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "req", middleware.GetReqID(r.Context()), "route", routePattern(r),
					"panic", fmt.Sprint(v), "at", panicSite())
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
