// Package alert POSTs a task's alerts to a webhook (options.alerts): a JSON
// Event, retried with backoff on a network error or a non-2xx answer. A Sender
// queues them and posts from its own goroutine, so the data paths never wait
// on a slow or dead webhook; a full queue drops the alert (and logs it).
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Events.
const (
	TaskFailed   = "task_failed"
	LagHigh      = "lag_high"
	LagRecovered = "lag_recovered"
)

// Event is the JSON payload.
type Event struct {
	Event string `json:"event"`
	// Task is the migration's workflow ID; Name the workflow file's name.
	Task    string `json:"task"`
	Name    string `json:"name"`
	Phase   string `json:"phase,omitempty"`
	Message string `json:"message"`
	// LagSeconds and ThresholdSeconds: lag alerts; Since: when the lag went
	// above the threshold.
	LagSeconds       float64   `json:"lag_seconds,omitempty"`
	ThresholdSeconds float64   `json:"threshold_seconds,omitempty"`
	Since            time.Time `json:"since,omitzero"`
	At               time.Time `json:"at"`
}

// Post sends ev to url, up to attempts times, waiting 1 s, 2 s, 4 s… between.
func Post(ctx context.Context, client *http.Client, url string, ev Event, attempts int) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var last error
	for i := 0; i < max(attempts, 1); i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second << min(i-1, 5)):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("alert: %w", redact(err, url))
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "sluice")
		resp, err := client.Do(req)
		if err != nil {
			last = redact(err, url)
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("the webhook answered %s", resp.Status)
	}
	return fmt.Errorf("alert %s: %d attempt(s): %w", ev.Event, max(attempts, 1), last)
}

// redact keeps the URL (which may carry a token) out of an error: the HTTP
// client's errors name it (in a normalised form), so only their cause is kept.
func redact(err error, rawURL string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s <webhook>: %w", ue.Op, ue.Err)
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), rawURL, "<webhook>"))
}

// Sender posts queued alerts in the background.
type Sender struct {
	log    *zap.Logger
	client *http.Client
	queue  chan job
}

type job struct {
	url string
	ev  Event
}

// queueSize bounds the alerts waiting to be posted.
const queueSize = 64

// NewSender starts a Sender; it lives as long as the process.
func NewSender(log *zap.Logger) *Sender {
	s := &Sender{log: log, client: &http.Client{Timeout: 10 * time.Second}, queue: make(chan job, queueSize)}
	go s.run()
	return s
}

// Send queues ev for url without waiting.
func (s *Sender) Send(url string, ev Event) {
	select {
	case s.queue <- job{url, ev}:
	default:
		s.log.Warn("alert dropped: the queue is full (the webhook is slow or down)", zap.String("event", ev.Event), zap.String("task", ev.Task))
	}
}

func (s *Sender) run() {
	for j := range s.queue {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if err := Post(ctx, s.client, j.url, j.ev, 5); err != nil {
			s.log.Warn("alert not delivered", zap.String("event", j.ev.Event), zap.String("task", j.ev.Task), zap.Error(err))
		} else {
			s.log.Info("alert delivered", zap.String("event", j.ev.Event), zap.String("task", j.ev.Task))
		}
		cancel()
	}
}

// LagWatch turns lag samples into LagHigh once the lag stayed above the
// threshold for the duration, and LagRecovered once it is back under.
type LagWatch struct {
	Threshold, For time.Duration
	above          time.Time // when the lag went above; zero: under
	fired          bool
}

// Observe takes a sample; it returns the event to send, if any.
func (w *LagWatch) Observe(now time.Time, lag time.Duration) (event string, since time.Time) {
	if w.Threshold <= 0 {
		return "", time.Time{}
	}
	if lag <= w.Threshold {
		since := w.above
		fired := w.fired
		w.above, w.fired = time.Time{}, false
		if fired {
			return LagRecovered, since
		}
		return "", time.Time{}
	}
	if w.above.IsZero() {
		w.above = now
	}
	if !w.fired && now.Sub(w.above) >= w.For {
		w.fired = true
		return LagHigh, w.above
	}
	return "", time.Time{}
}

// State is the watch's state, to carry it over a restart; Restore sets it.
func (w *LagWatch) State() (above time.Time, fired bool) { return w.above, w.fired }

// Restore sets the state State returned.
func (w *LagWatch) Restore(above time.Time, fired bool) { w.above, w.fired = above, fired }
