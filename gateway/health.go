package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

const readyTimeout = 2 * time.Second

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n")) //nolint:errcheck
}

// readyz answers 200 when every dependency answers, 503 otherwise, with each
// one's state: "ok" or "unavailable", followed by the error when detailed.
// The public /readyz is not detailed: a driver's error names the database,
// its user and host, which only operators (the admin listener) should see.
func (s *Server) readyz(detailed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		errs := s.pingAll(r.Context())
		code := http.StatusOK
		status := make(map[string]string, len(errs))
		for name, err := range errs {
			status[name] = "ok"
			if err != nil {
				code = http.StatusServiceUnavailable
				status[name] = "unavailable"
				if detailed {
					status[name] += ": " + err.Error()
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(status) //nolint:errcheck
	}
}

// pingAll pings every dependency concurrently and returns each one's error,
// nil for those that answered.
func (s *Server) pingAll(ctx context.Context) map[string]error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	errs := make(map[string]error, len(s.ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.ready {
		wg.Go(func() {
			err := c.Ping(ctx)
			mu.Lock()
			errs[c.Name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return errs
}
