package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSDKMetricsExportsDifferentTagSetsUnderOneName(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewSDKMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Counter("request").Inc(2)
	m.WithTags(map[string]string{"operation": "StartWorkflow"}).Counter("request").Inc(3)
	m.WithTags(map[string]string{"task-queue": "q"}).Timer("latency").Record(1500 * time.Millisecond)
	m.Gauge("slots").Update(7)

	want := `
# HELP temporal_request Temporal SDK metric request
# TYPE temporal_request counter
temporal_request 2
temporal_request{operation="StartWorkflow"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "temporal_request"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "temporal_latency_seconds_sum", "temporal_slots"); err != nil || n != 2 {
		t.Fatalf("timer and gauge: got %d series, err %v", n, err)
	}
}
