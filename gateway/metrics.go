package gateway

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	hops *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		hops: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "imisgw_ussd_hop_duration_seconds",
			Help:    "Time to answer a USSD hop, by provider and outcome (answered, replayed, refused, unavailable).",
			Buckets: []float64{.001, .002, .005, .01, .015, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider", "outcome"}),
	}
	reg.MustRegister(m.hops)
	return m
}

func (m *metrics) observeHop(provider, outcome string, took time.Duration) {
	m.hops.WithLabelValues(provider, outcome).Observe(took.Seconds())
}
