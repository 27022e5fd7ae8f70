package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/applier"
	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/testenv"
)

// task names the benchmark's migration in the destination's `sluice` schema.
const task = "incbench"

// identity replicates the benchmark database to the same names, every column and
// operation: what a workflow file selecting `sbtest` with no renames resolves to.
type identity struct{}

func (identity) Table(db, table string) (string, string, bool) {
	return db, table, db == benchDB
}
func (identity) Column(_, _, column string) (string, bool) { return column, false }
func (identity) Operations(_, _ string) []string           { return nil }

// endpoint is a server as a workflow file would name it: TLS off, like the native
// replica's connection (the servers have no certificates).
func endpoint(s *testenv.Server) spec.Endpoint {
	return spec.Endpoint{Host: s.Host, Port: s.Port, User: s.RootUser, Password: "${PASSWORD}", TLS: spec.TLS{Mode: "disabled"}}
}

func passwordOf(s *testenv.Server) dbconn.LookupFunc {
	return func(string) (string, bool) { return s.RootPassword, true }
}

// sluiceConns are the pools the activity would open (dbconn, as on a worker).
type sluiceConns struct {
	src, dst *sql.DB
}

func (b *bench) openSluice(ctx context.Context) (*sluiceConns, error) {
	src, err := dbconn.Open(ctx, "source", endpoint(b.src), passwordOf(b.src))
	if err != nil {
		return nil, err
	}
	dst, err := dbconn.Open(ctx, "destination", endpoint(b.dst), passwordOf(b.dst), dbconn.MultiStatements)
	if err != nil {
		src.Close()
		return nil, err
	}
	return &sluiceConns{src: src, dst: dst}, nil
}

func (c *sluiceConns) close() {
	c.src.Close()
	c.dst.Close()
}

// streamConfig is the binlog reader's configuration, as the Incremental activity
// builds it (table definitions from the source's information_schema).
func (b *bench) streamConfig(c *sluiceConns) binlog.Config {
	return binlog.Config{
		Endpoint: endpoint(b.src),
		Env:      passwordOf(b.src),
		ServerID: binlog.ServerIDFor(task),
		Lookup: func(ctx context.Context, db, table string) (*binlog.Table, error) {
			if _, _, ok := (identity{}).Table(db, table); !ok {
				return nil, nil
			}
			return binlog.LoadTable(ctx, c.src, db, table)
		},
	}
}

func (b *bench) applierConfig(c *sluiceConns, onEpoch func(applier.Progress)) applier.Config {
	return applier.Config{
		Task: task, Dest: c.dst, Source: c.src, Select: identity{}, MultiStatements: true,
		Slots:     b.cfg.slots,
		EpochTxns: b.cfg.epochTxns, EpochBytes: b.cfg.epochBytes, EpochWait: b.cfg.epochWait,
		OnEpoch: onEpoch,
	}
}

// liveApplier is an applier running on a binlog stream in the background.
type liveApplier struct {
	ap     *applier.Applier
	stream *binlog.Stream
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	last   applier.Progress
	epochs int
	reach  binlog.Position
	hit    chan time.Time // receives the time the first epoch reaches `reach`
}

// startApplier opens the task (resuming from its checkpoint, or from start when
// it has none) and the binlog, and runs the applier until stop.
func (b *bench) startApplier(ctx context.Context, c *sluiceConns, start binlog.Position) (*liveApplier, error) {
	l := &liveApplier{done: make(chan error, 1), hit: make(chan time.Time, 1)}
	onEpoch := func(p applier.Progress) {
		now := time.Now()
		l.mu.Lock()
		defer l.mu.Unlock()
		if p.Epoch != l.last.Epoch {
			l.epochs++
		}
		l.last = p
		if l.reach != (binlog.Position{}) && p.Position.Compare(l.reach) >= 0 {
			select {
			case l.hit <- now:
			default:
			}
			l.reach = binlog.Position{}
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	ap, err := applier.New(rctx, b.applierConfig(c, onEpoch), binlog.Position{})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("applier: %w", err)
	}
	from, ok := ap.Checkpoint()
	if !ok {
		if start == (binlog.Position{}) {
			ap.Close()
			cancel()
			return nil, fmt.Errorf("applier: task %q has no checkpoint to resume from", task)
		}
		from = start
		ap.SetStart(start)
	}
	l.last = ap.Progress()
	st, err := binlog.Open(rctx, b.streamConfig(c), from)
	if err != nil {
		ap.Close()
		cancel()
		return nil, fmt.Errorf("open the source binlog at %s: %w", from, err)
	}
	l.ap, l.stream, l.cancel = ap, st, cancel
	go func() { l.done <- ap.Run(rctx, st) }()
	return l, nil
}

// waitFor waits until an epoch reaches pos and returns when it did (the time the
// applier reported it, not when this call noticed).
func (l *liveApplier) waitFor(ctx context.Context, pos binlog.Position) (time.Time, error) {
	l.mu.Lock()
	if l.last.Position.Compare(pos) >= 0 {
		l.mu.Unlock()
		return time.Now(), nil
	}
	l.reach = pos
	l.mu.Unlock()
	select {
	case t := <-l.hit:
		return t, nil
	case err := <-l.done:
		l.done <- err // for stop
		if err == nil {
			err = errors.New("applier stopped")
		}
		return time.Time{}, fmt.Errorf("applier: %w", err)
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

func (l *liveApplier) progress() (applier.Progress, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last, l.epochs
}

// stop ends the run: an error other than the cancellation is returned.
func (l *liveApplier) stop() error {
	l.cancel()
	err := <-l.done
	l.stream.Close()
	l.ap.Close()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runSluice times sluice's applier catching up from start to end.
func (b *bench) runSluice(ctx context.Context, c *sluiceConns, bl backlog) *catchupResult {
	r := &catchupResult{Name: phaseSluice, Txns: bl.Txns}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
	defer cancel()
	if b.cfg.cpuProfile != "" {
		f, err := os.Create(b.cfg.cpuProfile)
		if err != nil {
			r.fail("cpuprofile: %v", err)
			return r
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			r.fail("cpuprofile: %v", err)
			return r
		}
		defer pprof.StopCPUProfile()
	}
	before, _ := readStatus(ctx, b.dst)
	rss := sampleRSS(100 * time.Millisecond)
	meter := b.meter()
	meter.start()
	t0 := time.Now()
	l, err := b.startApplier(ctx, c, bl.Start)
	if err != nil {
		rss.finish()
		r.fail("%v", err)
		return r
	}
	end, err := l.waitFor(ctx, bl.End)
	if err == nil {
		r.Seconds = end.Sub(t0).Seconds()
	}
	r.CPU = meter.stop()
	r.PeakRSS = rss.finish()
	if after, err := readStatus(ctx, b.dst); err == nil {
		r.Server = statusDelta(before, after)
	}
	if b.cfg.memProfile != "" {
		if err := writeHeapProfile(b.cfg.memProfile); err != nil {
			b.logf("  memprofile: %v", err)
		}
	}
	p, epochs := l.progress()
	if serr := l.stop(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		r.fail("%v", err)
		return r
	}
	r.Epochs = epochs
	r.Rows = p.Rows
	if p.Txns != bl.Txns {
		r.fail("the applier counted %d transactions, the source's GTID position moved by %d", p.Txns, bl.Txns)
	}
	return r
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(f)
}
