package metrics

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// SDK is a Temporal SDK MetricsHandler (client.Options.MetricsHandler) that
// records into the registry: counters, gauges, and timers as histograms in
// seconds. A metric's label names are fixed by its first use (Prometheus wants
// one set per name); a later use with other tags fills missing labels with ""
// and drops unknown ones.
func (m *Metrics) SDK() client.MetricsHandler {
	if m == nil {
		return client.MetricsNopHandler
	}
	return &sdkHandler{vecs: &sdkVecs{reg: m.reg, byName: map[string]*sdkVec{}}}
}

type sdkVecs struct {
	reg    *prometheus.Registry
	mu     sync.Mutex
	byName map[string]*sdkVec
}

type sdkVec struct {
	labels  []string
	counter *prometheus.CounterVec
	gauge   *prometheus.GaugeVec
	hist    *prometheus.HistogramVec
}

type sdkHandler struct {
	vecs *sdkVecs
	tags map[string]string
}

func (h *sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &sdkHandler{vecs: h.vecs, tags: merged}
}

// vec returns the metric of name, registering it on first use.
func (h *sdkHandler) vec(name string, kind byte) *sdkVec {
	h.vecs.mu.Lock()
	defer h.vecs.mu.Unlock()
	if v, ok := h.vecs.byName[name]; ok {
		return v
	}
	v := &sdkVec{labels: slices.Sorted(maps.Keys(h.tags))}
	for i, l := range v.labels {
		v.labels[i] = sanitize(l)
	}
	var c prometheus.Collector
	help := "Temporal SDK metric " + name
	switch kind {
	case 'c':
		v.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: sanitize(name), Help: help}, v.labels)
		c = v.counter
	case 'g':
		v.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: sanitize(name), Help: help}, v.labels)
		c = v.gauge
	default:
		v.hist = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: sanitize(name) + "_seconds", Help: help,
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, v.labels)
		c = v.hist
	}
	if err := h.vecs.reg.Register(c); err != nil {
		// The same name as another kind: keep a vec nobody scrapes.
		v.counter, v.gauge, v.hist = nil, nil, nil
	}
	h.vecs.byName[name] = v
	return v
}

func (v *sdkVec) values(tags map[string]string) []string {
	out := make([]string, len(v.labels))
	for k, val := range tags {
		if i := slices.Index(v.labels, sanitize(k)); i >= 0 {
			out[i] = val
		}
	}
	return out
}

func (h *sdkHandler) Counter(name string) client.MetricsCounter {
	v := h.vec(name, 'c')
	return counterFunc(func(d int64) {
		if v.counter != nil && d > 0 {
			v.counter.WithLabelValues(v.values(h.tags)...).Add(float64(d))
		}
	})
}

func (h *sdkHandler) Gauge(name string) client.MetricsGauge {
	v := h.vec(name, 'g')
	return gaugeFunc(func(x float64) {
		if v.gauge != nil {
			v.gauge.WithLabelValues(v.values(h.tags)...).Set(x)
		}
	})
}

func (h *sdkHandler) Timer(name string) client.MetricsTimer {
	v := h.vec(name, 't')
	return timerFunc(func(d time.Duration) {
		if v.hist != nil {
			v.hist.WithLabelValues(v.values(h.tags)...).Observe(d.Seconds())
		}
	})
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(x float64) { f(x) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// sanitize makes a Prometheus name: letters, digits and underscores.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
