package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openimis/imis-gateway/menus"
)

// LookupsWatched is a look-up limiter whose refusals are counted
// (imisgw_lookups_refused_total) and logged with the masked phone, so that
// an operator sees enumeration attempts and limits set too tight.
type LookupsWatched struct {
	limiter menus.LookupLimiter
	refused *prometheus.CounterVec
	log     *slog.Logger
}

// WatchLookups wraps limiter, registering its counter on reg.
func WatchLookups(limiter menus.LookupLimiter, reg prometheus.Registerer, log *slog.Logger) *LookupsWatched {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imisgw_lookups_refused_total",
		Help: "Look-ups of insurance numbers refused because the phone reached its limit, by caller (public, officer).",
	}, []string{"caller"})
	for _, caller := range []string{"public", "officer"} {
		refused.WithLabelValues(caller)
	}
	reg.MustRegister(refused)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LookupsWatched{limiter: limiter, refused: refused, log: log}
}

// AllowLookup implements menus.LookupLimiter.
func (w *LookupsWatched) AllowLookup(ctx context.Context, phone string, officer bool) (bool, time.Duration, error) {
	ok, retry, err := w.limiter.AllowLookup(ctx, phone, officer)
	if err == nil && !ok {
		caller := "public"
		if officer {
			caller = "officer"
		}
		w.refused.WithLabelValues(caller).Inc()
		w.log.Info("look-up limit reached", "phone", maskPhone(phone), "caller", caller, "retry_in", retry.Round(time.Second))
	}
	return ok, retry, err
}
