package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSluiceMetrics(t *testing.T) {
	m := New()
	m.Copied("sluice-shop", "shop.orders", 1000, 64000)
	m.Copied("sluice-shop", "shop.orders", 500, 32000)
	m.Applied("sluice-shop", 7)
	m.AppliedRows("sluice-shop", "shop.orders", 40)
	m.AppliedRows("sluice-shop", "shop.items", 2)
	m.Lag("sluice-shop", 1.5)
	m.Waited("sluice-shop", "full", 1500*time.Millisecond)
	m.Retried("sluice-shop", "connection")
	m.Retried("sluice-shop", "connection")
	m.Paused("sluice-shop", true)
	text := scrape(t, m)
	for _, want := range []string{
		`sluice_full_rows_copied_total{table="shop.orders",task="sluice-shop"} 1500`,
		`sluice_full_bytes_copied_total{table="shop.orders",task="sluice-shop"} 96000`,
		`sluice_incremental_row_changes_applied_total{table="shop.orders",task="sluice-shop"} 40`,
		`sluice_incremental_row_changes_applied_total{table="shop.items",task="sluice-shop"} 2`,
		`sluice_incremental_transactions_applied_total{task="sluice-shop"} 7`,
		`sluice_incremental_lag_seconds{task="sluice-shop"} 1.5`,
		`sluice_throttle_wait_seconds_total{phase="full",task="sluice-shop"} 1.5`,
		`sluice_retries_total{class="connection",task="sluice-shop"} 2`,
		`sluice_paused{task="sluice-shop"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	m.Forget("sluice-shop", true, true)
	if text := scrape(t, m); strings.Contains(text, "sluice_incremental_lag_seconds{") || strings.Contains(text, "sluice_paused{") {
		t.Error("forgotten gauges are still exported")
	}
	// A nil *Metrics records nothing and does not panic.
	var none *Metrics
	none.Copied("t", "x", 1, 1)
	none.Lag("t", 1)
	if none.SDK() == nil {
		t.Error("nil SDK handler")
	}
}

func TestSDKHandler(t *testing.T) {
	m := New()
	h := m.SDK().WithTags(map[string]string{"namespace": "default", "task_queue": "sluice"})
	h.Counter("temporal_request").Inc(3)
	h.WithTags(map[string]string{"operation": "Poll"}).Counter("temporal_request").Inc(2) // a label the first use did not have: dropped
	h.Gauge("temporal_num_pollers").Update(4)
	h.Timer("temporal_activity_execution_latency").Record(20 * time.Millisecond)
	// Tags that collide once sanitized ("task-queue") make a metric that cannot
	// be registered: dropped, not a panic.
	h.WithTags(map[string]string{"task-queue": "x"}).Counter("temporal_long_request").Inc(1)
	text := scrape(t, m)
	for _, want := range []string{
		`temporal_request{namespace="default",task_queue="sluice"} 5`,
		`temporal_num_pollers{namespace="default",task_queue="sluice"} 4`,
		`temporal_activity_execution_latency_seconds_count{namespace="default",task_queue="sluice"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s\n%s", want, text)
		}
	}
	if strings.Contains(text, "temporal_long_request") {
		t.Error("a metric with colliding labels was exported")
	}
}
