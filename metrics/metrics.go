// Package metrics is what a worker exposes to Prometheus (sluice-worker
// --metrics-listen): sluice's own metrics, labelled by task (the migration's
// workflow ID) and table, and the Temporal SDK's, through an SDK MetricsHandler
// over the same registry (the SDK's tally bridge is a module of its own; this
// adapter is a page).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are one worker's. A nil *Metrics records nothing (its methods are
// safe to call), so code paths need no checks.
type Metrics struct {
	reg *prometheus.Registry

	rowsCopied   *prometheus.CounterVec
	bytesCopied  *prometheus.CounterVec
	rowsApplied  *prometheus.CounterVec
	txnsApplied  *prometheus.CounterVec
	lag          *prometheus.GaugeVec
	throttleWait *prometheus.CounterVec
	retries      *prometheus.CounterVec
	paused       *prometheus.GaugeVec
}

// New registers sluice's metrics, and Go's and the process's, in a registry
// of their own.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{reg: reg}
	m.rowsCopied = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_full_rows_copied_total",
		Help: "Rows the full copy wrote to the destination."}, []string{"task", "table"})
	m.bytesCopied = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_full_bytes_copied_total",
		Help: "Bytes of values the full copy read from the source."}, []string{"task", "table"})
	m.rowsApplied = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_incremental_row_changes_applied_total",
		Help: "Row changes (events) replication applied to the destination."}, []string{"task", "table"})
	m.txnsApplied = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_incremental_transactions_applied_total",
		Help: "Source transactions replication applied."}, []string{"task"})
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_incremental_lag_seconds",
		Help: "How far the destination is behind the source (0: caught up)."}, []string{"task"})
	m.throttleWait = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_throttle_wait_seconds_total",
		Help: "Time the data paths waited on the throttle or a pause."}, []string{"task", "phase"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_retries_total",
		Help: "Failed attempts retried, by error class (connection, other, lock)."}, []string{"task", "class"})
	m.paused = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sluice_paused",
		Help: "1 while the task is paused (sluice pause)."}, []string{"task"})
	for _, c := range []prometheus.Collector{m.rowsCopied, m.bytesCopied, m.rowsApplied, m.txnsApplied, m.lag, m.throttleWait, m.retries, m.paused} {
		f(c)
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Copied counts a page of the full copy.
func (m *Metrics) Copied(task, table string, rows, bytes int64) {
	if m == nil {
		return
	}
	if rows > 0 {
		m.rowsCopied.WithLabelValues(task, table).Add(float64(rows))
	}
	if bytes > 0 {
		m.bytesCopied.WithLabelValues(task, table).Add(float64(bytes))
	}
}

// Applied counts the source transactions replication applied since the last call.
func (m *Metrics) Applied(task string, txns uint64) {
	if m == nil || txns == 0 {
		return
	}
	m.txnsApplied.WithLabelValues(task).Add(float64(txns))
}

// AppliedRows counts row changes of a table replication applied.
func (m *Metrics) AppliedRows(task, table string, rows int) {
	if m == nil || rows <= 0 {
		return
	}
	m.rowsApplied.WithLabelValues(task, table).Add(float64(rows))
}

// Forget drops a task's gauges when this worker stops running its
// replication (another worker's are the live ones then) or its watcher ends.
func (m *Metrics) Forget(task string, lag, paused bool) {
	if m == nil {
		return
	}
	if lag {
		m.lag.DeleteLabelValues(task)
	}
	if paused {
		m.paused.DeleteLabelValues(task)
	}
}

// Lag sets the replication's lag.
func (m *Metrics) Lag(task string, seconds float64) {
	if m == nil {
		return
	}
	m.lag.WithLabelValues(task).Set(seconds)
}

// Waited counts time a data path (phase full or incremental) spent in the
// throttle.
func (m *Metrics) Waited(task, phase string, d time.Duration) {
	if m == nil || d <= 0 {
		return
	}
	m.throttleWait.WithLabelValues(task, phase).Add(d.Seconds())
}

// Retried counts a failed attempt of a class.
func (m *Metrics) Retried(task, class string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(task, class).Inc()
}

// Paused sets whether the task is paused.
func (m *Metrics) Paused(task string, paused bool) {
	if m == nil {
		return
	}
	v := 0.0
	if paused {
		v = 1
	}
	m.paused.WithLabelValues(task).Set(v)
}
