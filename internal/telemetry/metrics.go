package telemetry

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// SDKMetrics adapts the Temporal SDK's metrics interface to a Prometheus
// registry. The SDK attaches different tag sets to one metric name, which
// Prometheus vectors cannot express, so series are kept here and exported
// by a collector of its own.
type SDKMetrics struct {
	store *seriesStore
	tags  map[string]string
}

// NewSDKMetrics registers a collector on reg and returns the handler to pass
// as client.Options.MetricsHandler.
func NewSDKMetrics(reg prometheus.Registerer) (*SDKMetrics, error) {
	s := &seriesStore{series: map[string]*series{}}
	if err := reg.Register(s); err != nil {
		return nil, err
	}
	return &SDKMetrics{store: s, tags: map[string]string{}}, nil
}

var _ client.MetricsHandler = (*SDKMetrics)(nil)

func (m *SDKMetrics) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(m.tags)+len(tags))
	for k, v := range m.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return &SDKMetrics{store: m.store, tags: merged}
}

func (m *SDKMetrics) Counter(name string) client.MetricsCounter {
	return counter{m.store.get(name, prometheus.CounterValue, m.tags)}
}

func (m *SDKMetrics) Gauge(name string) client.MetricsGauge {
	return gauge{m.store.get(name, prometheus.GaugeValue, m.tags)}
}

func (m *SDKMetrics) Timer(name string) client.MetricsTimer {
	return timer{m.store.get(name+"_seconds_sum", prometheus.CounterValue, m.tags),
		m.store.get(name+"_seconds_count", prometheus.CounterValue, m.tags)}
}

type counter struct{ s *series }

func (c counter) Inc(n int64) { c.s.add(float64(n)) }

type gauge struct{ s *series }

func (g gauge) Update(v float64) { g.s.set(v) }

type timer struct{ sum, count *series }

func (t timer) Record(d time.Duration) { t.sum.add(d.Seconds()); t.count.add(1) }

type series struct {
	mu    sync.Mutex
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value float64
	vals  []string
}

func (s *series) add(v float64) { s.mu.Lock(); s.value += v; s.mu.Unlock() }
func (s *series) set(v float64) { s.mu.Lock(); s.value = v; s.mu.Unlock() }

type seriesStore struct {
	mu     sync.Mutex
	series map[string]*series
}

func (s *seriesStore) get(name string, kind prometheus.ValueType, tags map[string]string) *series {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]string, len(keys))
	id := strings.Builder{}
	id.WriteString(name)
	for i, k := range keys {
		vals[i] = tags[k]
		id.WriteString("\x00" + k + "\x00" + tags[k])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if existing, ok := s.series[id.String()]; ok {
		return existing
	}
	fq := "temporal_" + sanitize(name)
	labels := make([]string, len(keys))
	for i, k := range keys {
		labels[i] = sanitize(k)
	}
	created := &series{desc: prometheus.NewDesc(fq, "Temporal SDK metric "+name, labels, nil), kind: kind, vals: vals}
	s.series[id.String()] = created
	return created
}

// Describe sends nothing: an unchecked collector, since series appear at run time.
func (s *seriesStore) Describe(chan<- *prometheus.Desc) {}

func (s *seriesStore) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	all := make([]*series, 0, len(s.series))
	for _, se := range s.series {
		all = append(all, se)
	}
	s.mu.Unlock()
	for _, se := range all {
		se.mu.Lock()
		v := se.value
		se.mu.Unlock()
		if m, err := prometheus.NewConstMetric(se.desc, se.kind, v, se.vals...); err == nil {
			ch <- m
		}
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
