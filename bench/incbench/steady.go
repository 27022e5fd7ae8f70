package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/testenv"
)

// lagStats summarises the probes' end-to-end lags on one copy.
type lagStats struct {
	Target   string  `json:"target"`
	Received int     `json:"received"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	MeanMs   float64 `json:"mean_ms"`
}

// percentile is the nearest-rank percentile of sorted values (0 when empty).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func summarize(target string, lags []time.Duration) lagStats {
	s := slices.Clone(lags)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	st := lagStats{Target: target, Received: len(s)}
	if len(s) == 0 {
		return st
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	st.P50Ms, st.P90Ms, st.P99Ms = ms(percentile(s, 50)), ms(percentile(s, 90)), ms(percentile(s, 99))
	st.MaxMs, st.MeanMs = ms(s[len(s)-1]), ms(sum/time.Duration(len(s)))
	return st
}

// steadyResult is the steady-state phase.
type steadyResult struct {
	Sysbench sysbenchResult     `json:"sysbench"`
	Probes   int                `json:"probes_sent"`
	Lag      []lagStats         `json:"lag"`
	Txns     uint64             `json:"txns"`
	Rows     uint64             `json:"rows"`
	Epochs   int                `json:"epochs"`
	CPU      map[string]float64 `json:"cpu_seconds"`
	PeakRSS  int64              `json:"peak_rss_bytes"`
	Verified bool               `json:"verified"`
	Errors   []string           `json:"errors,omitempty"`
}

func (r *steadyResult) fail(format string, args ...any) {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
}

// prober inserts one probe row on the source every interval, its value the
// wall-clock time (µs) just before the INSERT.
type prober struct {
	db     *sql.DB
	sent   int
	lastID int64
	err    error
}

func (p *prober) run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	q := "INSERT INTO " + testenv.QuoteIdent(benchDB) + "." + testenv.QuoteIdent(probeTable) + " (`sent_us`) VALUES (?)"
	for {
		res, err := p.db.ExecContext(ctx, q, time.Now().UnixMicro())
		if err != nil {
			if ctx.Err() == nil {
				p.err = fmt.Errorf("probe insert: %w", err)
			}
			return
		}
		p.sent++
		if p.lastID, err = res.LastInsertId(); err != nil {
			p.err = fmt.Errorf("probe insert id: %w", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watcher polls one copy for probe rows it has not seen and records each one's
// lag: the time it was first seen less the time it was sent. The poll interval
// bounds the error (lags are overestimated by at most one interval).
type watcher struct {
	name   string
	db     *sql.DB
	mu     sync.Mutex
	seen   int64
	lags   []time.Duration
	err    error
	done   chan struct{}
	cancel context.CancelFunc
}

func startWatcher(ctx context.Context, s *testenv.Server, every time.Duration) (*watcher, error) {
	db, err := s.Open("")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	wctx, cancel := context.WithCancel(ctx)
	w := &watcher{name: s.Name, db: db, done: make(chan struct{}), cancel: cancel}
	q := "SELECT `id`, `sent_us` FROM " + testenv.QuoteIdent(benchDB) + "." + testenv.QuoteIdent(probeTable) + " WHERE `id` > ? ORDER BY `id`"
	// Rows already there (from an earlier phase) are not probes of this one.
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(`id`), 0) FROM "+testenv.QuoteIdent(benchDB)+"."+testenv.QuoteIdent(probeTable)).Scan(&w.seen); err != nil {
		cancel()
		db.Close()
		return nil, fmt.Errorf("%s: probe table: %w", s.Name, err)
	}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
			}
			if err := w.poll(wctx, q); err != nil {
				if wctx.Err() == nil {
					w.mu.Lock()
					w.err = err
					w.mu.Unlock()
				}
				return
			}
		}
	}()
	return w, nil
}

func (w *watcher) poll(ctx context.Context, q string) error {
	w.mu.Lock()
	from := w.seen
	w.mu.Unlock()
	rows, err := w.db.QueryContext(ctx, q, from)
	if err != nil {
		return fmt.Errorf("%s: poll probes: %w", w.name, err)
	}
	defer rows.Close()
	now := time.Now()
	var got []time.Duration
	last := from
	for rows.Next() {
		var id, sent int64
		if err := rows.Scan(&id, &sent); err != nil {
			return fmt.Errorf("%s: poll probes: %w", w.name, err)
		}
		got = append(got, now.Sub(time.UnixMicro(sent)))
		last = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: poll probes: %w", w.name, err)
	}
	w.mu.Lock()
	w.lags = append(w.lags, got...)
	w.seen = last
	w.mu.Unlock()
	return nil
}

// waitSeen waits until the watcher has seen probe id, or timeout.
func (w *watcher) waitSeen(ctx context.Context, id int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		w.mu.Lock()
		seen, err := w.seen, w.err
		w.mu.Unlock()
		switch {
		case err != nil:
			return err
		case seen >= id:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("%s: probe %d not there %s after the last was sent (seen up to %d)", w.name, id, timeout, seen)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (w *watcher) stop() []time.Duration {
	w.cancel()
	<-w.done
	w.db.Close()
	return w.lags
}

// runSteady runs sysbench at a fixed rate while sluice's applier (resumed from
// its checkpoint) replicates live, and measures the lag of probe rows. n, when
// not nil, is the native replica, still replicating, measured with the same probes.
func (b *bench) runSteady(ctx context.Context, c *sluiceConns, n *nativeReplica) *steadyResult {
	r := &steadyResult{}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
	defer cancel()
	srcDB, err := b.src.Open("")
	if err != nil {
		r.fail("%v", err)
		return r
	}
	defer srcDB.Close()

	l, err := b.startApplier(ctx, c, binlog.Position{})
	if err != nil {
		r.fail("%v", err)
		return r
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = l.stop()
		}
	}()
	// Caught up before the clock starts.
	pos0, err := sourcePosition(ctx, srcDB)
	if err == nil {
		_, err = l.waitFor(ctx, pos0)
	}
	if err == nil && n != nil {
		err = waitReplica(ctx, n, pos0, b.cfg.timeout)
	}
	if err != nil {
		r.fail("catching up before the steady state: %v", err)
		return r
	}
	p0, e0 := l.progress()

	targets := []*testenv.Server{b.dst}
	if n != nil {
		targets = append(targets, b.replica)
	}
	var watchers []*watcher
	for _, t := range targets {
		w, err := startWatcher(ctx, t, b.cfg.probePoll)
		if err != nil {
			r.fail("%v", err)
			for _, w := range watchers {
				w.stop()
			}
			return r
		}
		watchers = append(watchers, w)
	}
	rss := sampleRSS(100 * time.Millisecond)
	meter := b.meter()
	meter.start()
	pctx, stopProbes := context.WithCancel(ctx)
	pr := &prober{db: srcDB}
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		pr.run(pctx, b.cfg.probeEvery)
	}()
	b.logf("  sysbench oltp_write_only --rate=%d --threads=%d --time=%d, a probe every %s", b.cfg.rate, b.cfg.threads, int(b.cfg.steady.Seconds()), b.cfg.probeEvery)
	res, sbErr := b.runSysbench(ctx, "run", "sysbench-steady.log",
		"--threads="+strconv.Itoa(b.cfg.threads), "--time="+strconv.Itoa(int(b.cfg.steady.Seconds())),
		"--rate="+strconv.Itoa(b.cfg.rate), "--report-interval=10")
	stopProbes()
	<-probed
	r.Sysbench, r.Probes = res, pr.sent
	if sbErr != nil {
		r.fail("%v", sbErr)
	}
	if pr.err != nil {
		r.fail("%v", pr.err)
	}
	for _, w := range watchers {
		if err := w.waitSeen(ctx, pr.lastID, time.Minute); err != nil {
			r.fail("%v", err)
		}
	}
	for _, w := range watchers {
		r.Lag = append(r.Lag, summarize(w.name, w.stop()))
	}
	// Everything the load wrote applied, then compared.
	end, err := sourcePosition(ctx, srcDB)
	if err == nil {
		_, err = l.waitFor(ctx, end)
	}
	if err == nil && n != nil {
		err = waitReplica(ctx, n, end, b.cfg.timeout)
	}
	r.CPU = meter.stop()
	r.PeakRSS = rss.finish()
	// sysbench is a child, not a measured process: its CPU moves out of "other".
	if res.CPUSeconds > 0 {
		r.CPU["sysbench"] = res.CPUSeconds
		r.CPU[otherCPU] = max(r.CPU[otherCPU]-res.CPUSeconds, 0)
	}
	p1, e1 := l.progress()
	stopped = true
	if serr := l.stop(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		r.fail("catching up after the steady state: %v", err)
		return r
	}
	r.Txns, r.Rows, r.Epochs = p1.Txns-p0.Txns, p1.Rows-p0.Rows, e1-e0
	diffs, err := b.verify(ctx, targets...)
	if err != nil {
		r.fail("verify: %v", err)
		return r
	}
	for _, t := range targets {
		for _, d := range diffs[t.Name] {
			r.fail("verify %s: %s", t.Name, d)
		}
	}
	r.Verified = len(r.Errors) == 0
	return r
}
