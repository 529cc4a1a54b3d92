package gateway

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkObserveHop is what the metrics add to a hop: its duration, its
// node and outcome, its session's start or end.
func BenchmarkObserveHop(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry())
	res := result{outcome: outcomeAnswered, node: "membership.ask", began: true}
	b.ReportAllocs()
	for b.Loop() {
		m.observeHop("africastalking", res, 3*time.Millisecond)
	}
}
