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

// readyz pings every dependency concurrently: 200 when all answer, 503 with
// the failing ones otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	status := make(map[string]string, len(s.ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.ready {
		wg.Go(func() {
			res := "ok"
			if err := c.Ping(ctx); err != nil {
				res = "unavailable: " + err.Error()
			}
			mu.Lock()
			status[c.Name] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	code := http.StatusOK
	for _, res := range status {
		if res != "ok" {
			code = http.StatusServiceUnavailable
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status) //nolint:errcheck
}
