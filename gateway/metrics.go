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
			Help:    "Time to answer a USSD hop, by provider and outcome (answered, replayed, refused, lost: a hop of a session Redis no longer holds, unavailable, ended).",
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

// SMSMetrics are the SMS command handler's metrics (SMSOptions.Metrics).
type SMSMetrics struct {
	suppressed *prometheus.CounterVec
}

// NewSMSMetrics makes the SMS command handler's metrics and registers them
// with reg, the registry served on /metrics (nil: not served, as in tests
// that need none).
func NewSMSMetrics(reg prometheus.Registerer) *SMSMetrics {
	m := &SMSMetrics{
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imisgw_sms_suppressed_total",
			Help: "Inbound SMS left unanswered, by reason: not_mobile (the sender is no mobile number: a sender id, " +
				"a short code), duplicate (the same text from the same phone was answered within SMS_REPEAT_WINDOW), " +
				"budget (the phone used its replies of the hour).",
		}, []string{"reason"}),
	}
	for _, r := range suppressionReasons {
		m.suppressed.WithLabelValues(string(r)) // shown at 0 before the first one
	}
	if reg != nil {
		reg.MustRegister(m.suppressed)
	}
	return m
}
