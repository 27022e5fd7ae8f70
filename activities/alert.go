package activities

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/sluice-dev/sluice/alert"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

// webhook is the alerts' URL, a ${NAME} reference resolved from the worker's
// environment (and masked in its logs).
func (a *Activities) webhook(s spec.Spec) (string, error) {
	al := s.Options.Alerts
	name, ok := al.WebhookRef()
	if !ok {
		return al.Webhook, nil
	}
	v, found := a.LookupEnv(name)
	if !found || v == "" {
		return "", fmt.Errorf("options.alerts.webhook: the environment variable %s is not set on this worker", name)
	}
	if a.OnSecret != nil {
		a.OnSecret(v)
	}
	return v, nil
}

// alerter is the worker's Sender, started on first use.
func (a *Activities) alerter() *alert.Sender {
	a.alertOnce.Do(func() { a.alerts = alert.NewSender(a.Log) })
	return a.alerts
}

// SendAlert posts one alert (the workflow's, on failure); the activity's own
// retries add to the three attempts here.
func (a *Activities) SendAlert(ctx context.Context, s spec.Spec, ev alert.Event) error {
	url, err := a.webhook(s)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "AlertFailed", nil)
	}
	if err := alert.Post(ctx, &http.Client{Timeout: 10 * time.Second}, url, ev, 3); err != nil {
		return temporal.NewApplicationError(err.Error(), "AlertFailed")
	}
	return nil
}

// lagAlerts watches the replication's lag for options.alerts.lag (nil: none).
type lagAlerts struct {
	a     *Activities
	url   string
	mu    sync.Mutex // snapshot (any goroutine) reads the watch the heartbeat changes
	watch alert.LagWatch
	base  alert.Event
}

func (a *Activities) lagAlerts(s spec.Spec, task string) *lagAlerts {
	al := s.Options.Alerts
	if al.Webhook == "" || al.Lag.Threshold <= 0 {
		return nil
	}
	url, err := a.webhook(s)
	if err != nil {
		a.Log.Warn("lag alerts are off: " + err.Error())
		return nil
	}
	return &lagAlerts{a: a, url: url, watch: alert.LagWatch{Threshold: al.Lag.Threshold.D(), For: al.Lag.For.D()},
		base: alert.Event{Task: task, Name: s.Name, Phase: "incremental", ThresholdSeconds: al.Lag.Threshold.D().Seconds()}}
}

// observe takes a lag sample and queues the alert it calls for.
func (l *lagAlerts) observe(lagSeconds float64) {
	if l == nil {
		return
	}
	now := time.Now()
	l.mu.Lock()
	ev, since := l.watch.Observe(now, time.Duration(lagSeconds*float64(time.Second)))
	l.mu.Unlock()
	if ev == "" {
		return
	}
	e := l.base
	e.Event, e.LagSeconds, e.Since, e.At = ev, lagSeconds, since, now.UTC()
	if ev == alert.LagHigh {
		e.Message = fmt.Sprintf("replication lag %.1fs has been above %s since %s", lagSeconds, l.watch.Threshold, since.UTC().Format(time.RFC3339))
	} else {
		e.Message = fmt.Sprintf("replication lag is back to %.1fs, under %s", lagSeconds, l.watch.Threshold)
	}
	l.a.alerter().Send(l.url, e)
}

// restore takes the watch's state from the last attempt's heartbeat.
func (l *lagAlerts) restore(p workflows.IncrementalProgress) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.watch.Restore(p.LagAbove, p.LagAlerted)
}

// save puts the watch's state in a heartbeat.
func (l *lagAlerts) save(p *workflows.IncrementalProgress) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p.LagAbove, p.LagAlerted = l.watch.State()
}
