package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	hops      *prometheus.HistogramVec
	conflicts prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		hops: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imisgw_ussd_hop_duration_seconds",
			Help:    "Time to answer a USSD hop, by provider and outcome (answered, replayed, refused, unavailable).",
			Buckets: []float64{.001, .002, .005, .01, .015, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider", "outcome"}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "imisgw_ussd_session_conflicts_total",
			Help: "Hops started from this instance's memory of their session that found it changed in Redis " +
				"(another instance or a racing retry answered first) and were answered again the locked way.",
		}),
	}
	reg.MustRegister(m.hops, m.conflicts)
	return m
}

func (m *metrics) observeHop(provider, outcome string, took time.Duration) {
	m.hops.WithLabelValues(provider, outcome).Observe(took.Seconds())
}
