// Package applier replays a source's binlog transactions on the destination:
// exactly once (checkpoints committed with the rows), in parallel where
// transactions do not touch the same keys, in safe mode while the full copy's rows
// may be newer than the events. See README.md.
package applier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/etl"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/throttle"
)

// Events is what the applier reads: a *binlog.Stream.
type Events interface {
	Next(ctx context.Context) (*binlog.Event, error)
}

// DDLFunc turns a replicated statement into what runs on the destination (nothing
// for statements on unselected objects), after recording it in the schema history.
// at is the DDL's binlog position (a stable key); retried: this DDL was started
// before a crash, so its side effects may be done.
// An error stops the task.
type DDLFunc func(ctx context.Context, schema, statement, at string, retried bool) ([]string, error)

// Config sets up an Applier.
type Config struct {
	// Task names the migration in sluice.tasks/checkpoints (one per workflow).
	Task   string
	Dest   *sql.DB
	Source *sql.DB // unique keys of the source tables, for conflicts
	// KeySource, when set, says where the unique keys of a source database's
	// tables are read (the schema history), instead of Source itself.
	KeySource func(db string) (*sql.DB, string)
	// SourceDB maps a KeySource database name back to the source database
	// (foreign keys there name other shadow databases); ok=false: unknown.
	SourceDB func(ctx context.Context, schema string) (string, bool)
	Select   Selection
	// Slots is the number of destination connections applying in parallel (4).
	Slots int
	// MultiStatements: Dest allows several statements per Exec
	// (dbconn.MultiStatements); a slot then sends its epoch in few round trips.
	MultiStatements bool
	// Replace writes inserts as REPLACE outside safe mode too (conflicts: ignore).
	Replace bool
	// DDL rewrites replicated DDL; nil ignores DDL (the definitions are still read
	// again after it).
	DDL DDLFunc
	// Heartbeat is the source table whose rows carry the task's heartbeat
	// (MetaSchema.HeartbeatTable): read for lag, never written to the destination.
	HeartbeatTask string
	// Epoch bounds: transactions, bytes of row images, and how long an epoch waits
	// for more transactions before it is applied.
	EpochTxns  int
	EpochBytes int
	EpochWait  time.Duration
	// OnEpoch is told the progress after every epoch and when the source is idle.
	OnEpoch func(Progress)
	// ETL returns a table's filter and transforms (nil: none), compiled for the
	// definition of the images being read; called again after each DDL.
	ETL func(ctx context.Context, db, table string, cols []rowcodec.Column) (*etl.Program, error)
	// SkipETLErrors leaves out a change whose filter or transform fails
	// (options.etl.on_error: skip) instead of stopping; OnETLSkip is told.
	SkipETLErrors bool
	OnETLSkip     func(error)
	// OnApplied is told, after each epoch, how many row changes of each source
	// table it applied (metrics); nil: not counted.
	OnApplied func(db, table string, rows int)
	// Limiter paces the applying (options.throttle.incremental, sluice throttle
	// and pause): Wait is called before each epoch with its row changes and
	// bytes; a Pager also bounds the epoch's rows. nil: unlimited.
	Limiter throttle.Limiter
}

// HeartbeatTable is the table on the source the heartbeat writer updates.
const HeartbeatTable = "heartbeat"

// Progress is the applier's state for heartbeats and status.
type Progress struct {
	Position binlog.Position `json:"position"`
	// SourceTime is the source time of the newest change applied (µs from the
	// heartbeat table, else the commit's second).
	SourceTime time.Time `json:"source_time"`
	// CaughtUp: every event the source sent has been applied (the stream is idle).
	CaughtUp bool   `json:"caught_up"`
	Epoch    uint64 `json:"epoch"`
	Txns     uint64 `json:"txns"`
	Rows     uint64 `json:"rows"`
	DDL      uint64 `json:"ddl"`
	SafeMode bool   `json:"safe_mode"`
	// LastChange is when this applier last applied a change of a replicated
	// table or a DDL (zero: none yet): the cutover waits until it is a few
	// seconds old, however busy the rest of the source is.
	LastChange time.Time `json:"last_change,omitzero"`
	// ETLSkipped counts changes left out because a filter or transform failed
	// on them (Config.SkipETLErrors), since this applier started.
	ETLSkipped uint64 `json:"etl_skipped,omitempty"`
	// At is when this progress was reported: CaughtUp is news only while fresh
	// (a reader cut off from the source reports nothing).
	At time.Time `json:"at,omitzero"`
}

// Applier applies one task's transactions.
type Applier struct {
	cfg   Config
	store *Store
	task  Task
	conns []*sql.Conn

	targets map[string]*target
	keys    map[string][]sourceKey
	fks     map[string][]foreignKey

	epoch  uint64
	pos    binlog.Position
	resume *Resume
	// carry is a transaction read past an epoch's end (a DDL after row changes).
	carry *txn
	// readPos and readResume are the reader goroutine's own: where the next
	// epoch starts, and the checkpoint being repaired (nil after it).
	readPos    binlog.Position
	readResume *Resume
	// readRows and readBytes (the reader's too) size a throttled epoch.
	readRows, readBytes int64
	cur                 *txn
	prog                Progress
	// abortable lets ctx cut an epoch mid-commit (tests: a crash between slots).
	abortable bool
	// afterDDL, a test hook, runs between a DDL and its checkpoint; an error
	// ends Run there (a crash).
	afterDDL func() error
	// generation is this applier's ownership of the task (see Store.Own).
	generation uint64
}

// New opens the task's state on the destination. It fails with ErrFenced for a
// finished task. start is used when the task has no checkpoint yet; Start()
// returns where to open the binlog.
func New(ctx context.Context, cfg Config, safeUntil binlog.Position) (*Applier, error) {
	if cfg.Slots <= 0 {
		cfg.Slots = 4
	}
	if cfg.Limiter == nil {
		cfg.Limiter = throttle.Unlimited{}
	}
	if cfg.EpochTxns <= 0 {
		cfg.EpochTxns = 4096
	}
	if cfg.EpochBytes <= 0 {
		cfg.EpochBytes = 32 << 20
	}
	if cfg.EpochWait <= 0 {
		cfg.EpochWait = 20 * time.Millisecond
	}
	store, err := OpenStore(ctx, cfg.Dest, cfg.Task)
	if err != nil {
		return nil, err
	}
	task, err := store.Start(ctx, safeUntil)
	if err != nil {
		return nil, err
	}
	a := &Applier{cfg: cfg, store: store, task: task, targets: map[string]*target{}, keys: map[string][]sourceKey{}, fks: map[string][]foreignKey{},
		conns: make([]*sql.Conn, cfg.Slots)}
	// Take the task over before reading where it stands: a previous attempt still
	// alive somewhere (a worker cut off from Temporal) commits nothing after this,
	// and Own waits for a DDL it runs (hold): the pending-DDL mark is read after.
	if a.generation, err = store.Own(ctx); err != nil {
		return nil, err
	}
	if a.task, err = store.Task(ctx); err != nil {
		return nil, err
	}
	if a.task.State != StateRunning {
		return nil, ErrFenced
	}
	r, ok, err := store.Resume(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		a.epoch = r.Epoch
		a.pos = r.Start
		a.prog.Txns, a.prog.Rows, a.prog.SourceTime = r.Txns, r.Rows, r.SourceTime
		a.prog.Position = r.End
		a.prog.Epoch = r.Epoch
		if r.Applied.count() > 0 {
			a.resume = &r
		} else {
			a.pos = r.End
		}
	}
	return a, nil
}

// Checkpoint returns where the binlog must be opened: the last checkpoint, or ok=false
// when the task has none (open at the full copy's start position).
func (a *Applier) Checkpoint() (binlog.Position, bool) {
	return a.pos, a.pos != (binlog.Position{})
}

// Progress is the state after the last epoch.
func (a *Applier) Progress() Progress { return a.prog }

// Close releases the destination connections.
func (a *Applier) Close() {
	for _, c := range a.conns {
		if c != nil {
			c.Close()
		}
	}
	a.conns = nil
}

// txn is one source transaction.
type txn struct {
	ordinal int
	end     binlog.Position
	time    time.Time
	hb      time.Time // the task's heartbeat row value in it
	changes []change
	ddl     *ddlStmt
	skip    bool // already applied (a resumed epoch)
	bytes   int
	keys    []uint64
	// etlSkipped counts changes left out because an expression failed
	// (SkipETLErrors).
	etlSkipped int
}

type ddlStmt struct{ schema, sql string }

type change struct {
	t             *target
	op            binlog.Op
	before, after rowcodec.Row
	// upsert: an update that brought a row into the filter, written as an insert
	// that replaces; left: one that took it out, written as a delete (the
	// source deleted nothing: no foreign key action runs).
	upsert, left bool
	// cascadeOnly: a change of a parent row the filter keeps off the
	// destination (or one written as upsert/left) whose foreign key actions on
	// the children still run: the source ran them on its children, which the
	// destination holds (op and images are the source's).
	cascadeOnly bool
}

type epochBatch struct {
	start, end binlog.Position
	txns       []*txn
	bytes      int
	rows       int
}

// Run applies transactions from ev (opened at Checkpoint, or at the start position)
// until ctx ends or an error occurs. The task's position only moves by committed
// epochs, so returning at any point loses nothing.
//
// Reading and applying overlap: a reader goroutine collects the next epoch while
// this one applies the last (the binlog is read and decoded while the
// destination commits). After a DDL the reader waits until it is applied: the
// decoder's schema history changes with it.
func (a *Applier) Run(ctx context.Context, ev Events) error {
	if a.pos == (binlog.Position{}) {
		return errors.New("applier: Run before the start position is known (SetStart)")
	}
	rctx, cancel := context.WithCancel(ctx)
	out := make(chan collected, 1)
	ack := make(chan struct{})
	done := make(chan struct{})
	// Reading starts over at the last committed epoch (Run may be called again
	// on a new stream after a pause): what an earlier Run read past it is read again.
	a.readPos, a.readResume = a.pos, a.resume
	a.carry, a.cur = nil, nil
	go func() {
		defer close(done)
		a.read(rctx, ev, out, ack)
	}()
	defer func() {
		cancel()
		<-done
	}()
	for {
		var c collected
		select {
		case c = <-out:
		case <-ctx.Done():
			return ctx.Err()
		}
		err := c.err
		switch {
		case err != nil:
		case c.idle:
			a.prog.CaughtUp = true
			a.report()
			continue
		default:
			if a.prog.CaughtUp && len(c.ep.txns) > 0 {
				// Behind again: lag counts from the last applied change.
				a.prog.CaughtUp = false
				a.report()
			}
			// An epoch read is applied whole even when ctx ends meanwhile (stop,
			// cutover, worker stop): a stop then leaves the destination at a
			// transaction boundary of the binlog, never with an epoch half
			// committed across slots. Only a crash does that; resume repairs it.
			actx := context.WithoutCancel(ctx)
			if a.abortable {
				actx = ctx
			}
			// The throttle (and a pause) hold the epoch before any of it is
			// written; ctx ending here loses nothing.
			if err = a.cfg.Limiter.Wait(ctx, c.ep.rows, c.ep.bytes); err == nil {
				err = a.apply(actx, c.ep)
			}
			if err == nil && c.ep.ddl() {
				select {
				case ack <- struct{}{}:
				case <-ctx.Done():
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				// Whatever failed failed because ctx ended.
				return ctx.Err()
			}
			return err
		}
	}
}

// collected is what the reader hands the applier: an epoch, the news that the
// source is idle (caught up once what came before is applied), or an error.
type collected struct {
	ep   *epochBatch
	idle bool
	err  error
}

func (ep *epochBatch) ddl() bool { return len(ep.txns) == 1 && ep.txns[0].ddl != nil }

// read collects epochs until ctx ends or an error, which it hands on last.
func (a *Applier) read(ctx context.Context, ev Events, out chan<- collected, ack <-chan struct{}) {
	idle := func() {
		select {
		case out <- collected{idle: true}:
		default: // an epoch is pending: its report says the rest
		}
	}
	for {
		ep, err := a.collect(ctx, ev, idle)
		if err == nil && ep == nil {
			continue
		}
		select {
		case out <- collected{ep: ep, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
		if ep.ddl() {
			select {
			case <-ack:
			case <-ctx.Done():
				return
			}
		}
	}
}

// SetStart sets the position of a task without checkpoints (the binlog is opened
// there).
func (a *Applier) SetStart(p binlog.Position) {
	if a.pos == (binlog.Position{}) {
		a.pos = p
		a.prog.Position = p
	}
}

// collect reads one epoch: transactions up to EpochTxns/EpochBytes, or what
// arrives within EpochWait of the first one, or a lone DDL. nil: the source was
// idle (progress reported).
func (a *Applier) collect(ctx context.Context, ev Events, idle func()) (*epochBatch, error) {
	ep := &epochBatch{start: a.readPos, end: a.readPos}
	defer func() {
		a.readPos = ep.end
		// The epoch that repairs a resumed one ends at its checkpoint; after it,
		// reading is normal.
		if a.readResume != nil && len(ep.txns) > 0 && ep.end.Compare(a.readResume.End) >= 0 {
			a.readResume = nil
		}
	}()
	var dl deadline
	defer dl.stop()
	expired := false
	// Under a throttle an epoch is a fraction of a second's budget (smooth rate).
	maxRows := 0
	if p, ok := a.cfg.Limiter.(throttle.Pager); ok {
		avg := 0.0
		if a.readRows > 0 {
			avg = float64(a.readBytes) / float64(a.readRows)
		}
		maxRows = p.PageRows(avg)
	}
	add := func(t *txn) bool {
		t.ordinal = len(ep.txns)
		if a.readResume != nil && a.readResume.Applied.has(t.ordinal) {
			t.skip = true
		}
		ep.txns = append(ep.txns, t)
		ep.end = t.end
		ep.bytes += t.bytes
		ep.rows += len(t.changes)
		a.readRows += int64(len(t.changes))
		a.readBytes += int64(t.bytes)
		if a.readResume != nil {
			if c := t.end.Compare(a.readResume.End); c >= 0 {
				if c > 0 {
					return true // checked by apply
				}
				return true
			}
			return false
		}
		return len(ep.txns) >= a.cfg.EpochTxns || ep.bytes >= a.cfg.EpochBytes || (maxRows > 0 && ep.rows >= maxRows)
	}
	if t := a.carry; t != nil {
		a.carry = nil
		add(t)
		return ep, nil
	}
	for {
		rctx := ctx
		if dl.ctx != nil {
			rctx = dl.ctx
		}
		e, err := ev.Next(rctx)
		if err != nil {
			if ctx.Err() == nil && dl.ctx != nil && errors.Is(err, context.DeadlineExceeded) {
				if a.cur == nil {
					return ep, nil
				}
				// Mid-transaction: finish it with the task's ctx, then end the epoch.
				dl.stop()
				expired = true
				continue
			}
			return nil, err
		}
		switch e.Kind {
		case binlog.Begin:
			a.cur = &txn{}
		case binlog.Rollback:
			a.cur = nil
		case binlog.Heartbeat:
			if a.cur == nil && a.readResume == nil {
				if len(ep.txns) > 0 {
					return ep, nil
				}
				idle()
			}
		case binlog.Rows:
			if a.cur == nil {
				return nil, fmt.Errorf("applier: rows of %s.%s outside a transaction at %s", e.Schema, e.Table, e.Pos)
			}
			if err := a.addRows(ctx, a.cur, e); err != nil {
				return nil, err
			}
		case binlog.Query:
			if a.cur == nil {
				return nil, fmt.Errorf("applier: statement outside a transaction at %s", e.Pos)
			}
			if len(a.cur.changes) == 0 && isDDL(e.SQL) {
				a.cur.ddl = &ddlStmt{schema: e.Schema, sql: e.SQL}
			}
		case binlog.Commit:
			t := a.cur
			a.cur = nil
			if t == nil {
				return nil, fmt.Errorf("applier: commit without a transaction at %s", e.Pos)
			}
			t.end, t.time = e.Pos, e.Time
			if t.ddl != nil && len(ep.txns) > 0 && a.readResume == nil {
				// A DDL is an epoch of its own.
				a.carry = t
				return ep, nil
			}
			if add(t) || t.ddl != nil || expired {
				return ep, nil
			}
			if dl.ctx == nil && a.readResume == nil && len(ep.txns) > 0 {
				dl.start(ctx, a.cfg.EpochWait)
			}
		}
	}
}

// deadline bounds how long an epoch waits for more transactions.
type deadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (d *deadline) start(ctx context.Context, wait time.Duration) {
	d.ctx, d.cancel = context.WithTimeout(ctx, wait)
}

func (d *deadline) stop() {
	if d.cancel != nil {
		d.cancel()
	}
	d.ctx, d.cancel = nil, nil
}

// isDDL tells a statement that changes objects from the session statements a
// transaction may log (SAVEPOINT and the like).
func isDDL(q string) bool {
	w := strings.ToUpper(firstWord(q))
	switch w {
	case "SAVEPOINT", "RELEASE", "SET", "DO", "SELECT", "BEGIN", "COMMIT", "ROLLBACK", "FLUSH", "ANALYZE", "OPTIMIZE", "CHECK", "REPAIR":
		return false
	}
	return true
}

func firstWord(q string) string {
	q = strings.TrimLeft(q, " \t\r\n(")
	for strings.HasPrefix(q, "/*") && !strings.HasPrefix(q, "/*!") {
		i := strings.Index(q, "*/")
		if i < 0 {
			return ""
		}
		q = strings.TrimLeft(q[i+2:], " \t\r\n(")
	}
	q = strings.TrimPrefix(q, "/*!")
	q = strings.TrimLeft(q, "0123456789 \t\r\n")
	end := strings.IndexFunc(q, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
	if end < 0 {
		return q
	}
	return q[:end]
}

// addRows adds a rows event's changes to the transaction.
func (a *Applier) addRows(ctx context.Context, t *txn, e *binlog.Event) error {
	if e.Schema == MetaSchema {
		if e.Table == HeartbeatTable && a.cfg.HeartbeatTask != "" {
			for _, c := range e.Changes {
				if ts, ok := heartbeatTime(e.Columns, c.After, a.cfg.HeartbeatTask); ok {
					t.hb = ts
				}
			}
		}
		return nil
	}
	tg, err := a.target(ctx, e)
	if err != nil || tg == nil {
		return err
	}
	var want opSet
	switch e.Op {
	case binlog.Insert:
		want = opInsert
	case binlog.Update:
		want = opUpdate
	case binlog.Delete:
		want = opDelete
	}
	if tg.ops&want == 0 {
		return nil
	}
	for _, c := range e.Changes {
		ch := change{t: tg, op: e.Op, before: c.Before, after: c.After}
		var extra *change
		if tg.prog != nil {
			orig := ch
			keep, err := filterChange(tg.prog, &ch)
			if err != nil {
				if a.cfg.SkipETLErrors {
					if a.cfg.OnETLSkip != nil {
						a.cfg.OnETLSkip(err)
					}
					t.etlSkipped++
					continue
				}
				return err
			}
			if len(tg.cascades) > 0 && (!keep || ch.upsert || ch.left) && orig.cascades() {
				// The parent's own change is filtered (or rewritten), its
				// children's foreign key actions are not: the source ran them.
				orig.cascadeOnly, orig.upsert = true, keep && ch.upsert
				extra = &orig
			}
			if !keep {
				if extra != nil {
					t.changes = append(t.changes, *extra)
				}
				continue
			}
		}
		t.changes = append(t.changes, ch)
		t.bytes += rowSize(ch.before) + rowSize(ch.after)
		if extra != nil {
			// After the upsert's new row (the children's check needs it).
			t.changes = append(t.changes, *extra)
		}
	}
	return nil
}

// filterChange applies a table's filter and transforms to one change, with the
// semantics of docs/etl.md: an insert is kept if its row passes; a delete if
// the deleted row passed; an update whose images both pass is an update, one
// whose new image alone passes an insert (upsert), one whose old image alone
// passes a delete, and neither is dropped. Kept images are transformed.
func filterChange(p *etl.Program, c *change) (bool, error) {
	var err error
	switch c.op {
	case binlog.Insert:
		keep, err := p.Keep(c.after, nil, etl.OpInsert)
		if err != nil || !keep {
			return false, err
		}
		c.after, err = p.Transform(c.after, nil, etl.OpInsert)
		return err == nil, err
	case binlog.Delete:
		keep, err := p.Keep(c.before, nil, etl.OpDelete)
		if err != nil || !keep {
			return false, err
		}
		c.before, err = p.Transform(c.before, nil, etl.OpDelete)
		return err == nil, err
	case binlog.Update:
		was, err := p.Keep(c.before, c.before, etl.OpUpdate)
		if err != nil {
			return false, err
		}
		is, err := p.Keep(c.after, c.before, etl.OpUpdate)
		if err != nil {
			return false, err
		}
		switch {
		case was && is:
			orig := c.before // old is the source's before-image for both
			if c.before, err = p.Transform(orig, orig, etl.OpUpdate); err != nil {
				return false, err
			}
			c.after, err = p.Transform(c.after, orig, etl.OpUpdate)
		case is:
			c.op, c.upsert = binlog.Insert, true
			c.after, err = p.Transform(c.after, c.before, etl.OpUpdate)
			c.before = nil
		case was:
			c.op, c.left = binlog.Delete, true
			c.before, err = p.Transform(c.before, c.before, etl.OpUpdate)
			c.after = nil
		default:
			return false, nil
		}
		return err == nil, err
	}
	return true, err
}

func rowSize(r rowcodec.Row) int {
	n := 0
	for _, v := range r {
		if b, ok := v.([]byte); ok {
			n += len(b)
		} else {
			n += 8
		}
	}
	return n
}

// heartbeatTime reads the task's heartbeat row: (`task`, `ts`).
func heartbeatTime(cols []rowcodec.Column, row rowcodec.Row, task string) (time.Time, bool) {
	if len(cols) < 2 || row == nil {
		return time.Time{}, false
	}
	name, _ := row[0].([]byte)
	ts, _ := row[1].([]byte)
	if string(name) != task || ts == nil {
		return time.Time{}, false
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04:05.999999", string(ts), time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	return tm, true
}

// target maps a rows event's table, cached per table and images column list.
func (a *Applier) target(ctx context.Context, e *binlog.Event) (*target, error) {
	k := e.Schema + "\x00" + e.Table
	if t, ok := a.targets[k]; ok && (t == nil || sameColumns(t.cols, e.Columns)) {
		return t, nil
	}
	dstDB, dstTable, ok := a.cfg.Select.Table(e.Schema, e.Table)
	if !ok {
		a.targets[k] = nil
		return nil, nil
	}
	keys, ok := a.keys[k]
	if !ok {
		var err error
		kdb, kschema := a.cfg.Source, e.Schema
		if a.cfg.KeySource != nil {
			kdb, kschema = a.cfg.KeySource(e.Schema)
		}
		if keys, err = loadKeys(ctx, kdb, kschema, e.Table); err != nil {
			return nil, fmt.Errorf("applier: %w", err)
		}
		a.keys[k] = keys
	}
	t, err := newTarget(a.cfg.Select, e.Schema, e.Table, dstDB, dstTable, e.Columns, keys)
	if err != nil {
		return nil, fmt.Errorf("applier: %w", err)
	}
	if t.descendants, err = a.descendants(ctx, e.Schema, e.Table); err != nil {
		return nil, fmt.Errorf("applier: %w", err)
	}
	if a.cfg.ETL != nil {
		if t.prog, err = a.cfg.ETL(ctx, e.Schema, e.Table, e.Columns); err != nil {
			return nil, err
		}
	}
	// Foreign keys as of the event (the schema history's, else the source's
	// catalog); read again after every DDL.
	fks, err := a.foreignKeys(ctx, e.Schema, e.Table)
	if err != nil {
		return nil, fmt.Errorf("applier: %w", err)
	}
	t.addForeignKeys(a.cfg.Select, fks)
	a.targets[k] = t
	return t, nil
}

func sameColumns(a, b []rowcodec.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x := a[i]
		x.Dest = b[i].Dest
		if x != b[i] {
			return false
		}
	}
	return true
}

func (a *Applier) report() {
	a.prog.At = time.Now()
	if a.cfg.OnEpoch != nil {
		a.cfg.OnEpoch(a.prog)
	}
}

// apply commits one epoch.
func (a *Applier) apply(ctx context.Context, ep *epochBatch) error {
	if r := a.resume; r != nil {
		if ep.end.File != r.End.File || ep.end.Pos != r.End.Pos {
			return fmt.Errorf("applier: resuming epoch %d: the binlog from %s ends a transaction at %s, not at the checkpoint's %s: the source's binlog differs from the one applied", r.Epoch, r.Start, ep.end, r.End)
		}
	}
	if len(ep.txns) == 0 {
		return nil
	}
	a.epoch++
	var err error
	if len(ep.txns) == 1 && ep.txns[0].ddl != nil {
		err = a.applyDDL(ctx, ep)
	} else {
		err = a.applyRows(ctx, ep)
	}
	if err != nil {
		return err
	}
	a.resume = nil
	a.pos = ep.end
	a.prog.Position = ep.end
	if a.cfg.OnApplied != nil {
		counts := map[*target]int{}
		for _, t := range ep.txns {
			if t.skip {
				continue
			}
			for _, c := range t.changes {
				if !c.cascadeOnly {
					counts[c.t]++
				}
			}
		}
		for tg, n := range counts {
			a.cfg.OnApplied(tg.srcDB, tg.srcTable, n)
		}
	}
	a.prog.Epoch = a.epoch
	a.prog.CaughtUp = false
	a.prog.SafeMode = a.task.SafeUntil != (binlog.Position{}) && ep.end.Compare(a.task.SafeUntil) < 0
	for _, t := range ep.txns {
		if t.skip {
			continue
		}
		a.prog.Txns++
		a.prog.Rows += uint64(len(t.changes))
		a.prog.ETLSkipped += uint64(t.etlSkipped)
		if len(t.changes) > 0 || t.ddl != nil {
			a.prog.LastChange = time.Now()
		}
		st := t.time
		if t.hb.After(st) {
			st = t.hb
		}
		if st.After(a.prog.SourceTime) {
			a.prog.SourceTime = st
		}
	}
	a.report()
	return nil
}

// slotWork is what one connection commits for an epoch.
type slotWork struct {
	txns []*txn
	rows int
}

// applyRows partitions the epoch's transactions into groups that share no key,
// spreads the groups over the slots and commits each slot's share with its
// checkpoint. A transaction without replicated changes is marked by slot 0.
func (a *Applier) applyRows(ctx context.Context, ep *epochBatch) error {
	n := a.cfg.Slots
	work := make([]slotWork, n)
	// Union-find over transactions by conflict key.
	parent := make([]int, len(ep.txns))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[uint64]int{}
	// Tables a cascade of this epoch reaches: its rows are changed by statements
	// whose keys are unknown (the source did not log them), so every change of
	// such a table in this epoch is ordered with the cascade (cascade.go).
	reached := map[uint64]bool{}
	for _, t := range ep.txns {
		for _, c := range t.changes {
			if c.t.cascades != nil && !c.left && c.cascades() {
				for _, d := range c.t.descendants {
					reached[d] = true
				}
			}
		}
	}
	for i, t := range ep.txns {
		if t.skip || len(t.changes) == 0 {
			continue
		}
		t.keys = t.keys[:0]
		for _, c := range t.changes {
			if len(reached) > 0 {
				if id := tableID(c.t); reached[id] {
					t.keys = append(t.keys, id^cascadeSalt)
				}
				if c.t.cascades != nil && c.cascades() {
					for _, d := range c.t.descendants {
						t.keys = append(t.keys, d^cascadeSalt)
					}
				}
			}
			id := tableID(c.t)
			t.keys = c.t.appendKeys(t.keys, id, c.before)
			t.keys = c.t.appendKeys(t.keys, id, c.after)
			t.keys = c.t.appendFKKeys(t.keys, c.before)
			t.keys = c.t.appendFKKeys(t.keys, c.after)
			if c.t.key == nil {
				// No NOT NULL key (none at all, or only nullable unique keys whose
				// NULL rows have no key value): every change of the table conflicts
				// with every other.
				t.keys = append(t.keys, id)
			}
		}
		for _, k := range t.keys {
			if j, ok := owner[k]; ok {
				ri, rj := find(i), find(j)
				if ri != rj {
					if ri < rj {
						parent[rj] = ri
					} else {
						parent[ri] = rj
					}
				}
			} else {
				owner[k] = i
			}
		}
	}
	// Groups in order of their first transaction, weighed by changes; the
	// heaviest first onto the least loaded slot.
	type group struct {
		txns []*txn
		rows int
	}
	groups := map[int]*group{}
	var order []int
	for i, t := range ep.txns {
		if t.skip || len(t.changes) == 0 {
			continue
		}
		r := find(i)
		g := groups[r]
		if g == nil {
			g = &group{}
			groups[r] = g
			order = append(order, r)
		}
		g.txns = append(g.txns, t)
		g.rows += len(t.changes)
	}
	slices.SortStableFunc(order, func(x, y int) int { return groups[y].rows - groups[x].rows })
	for _, r := range order {
		best := 0
		for s := 1; s < n; s++ {
			if work[s].rows < work[best].rows {
				best = s
			}
		}
		work[best].txns = append(work[best].txns, groups[r].txns...)
		work[best].rows += groups[r].rows
	}
	// Empty transactions are still marked (the count of applied transactions is
	// the count of source transactions).
	for _, t := range ep.txns {
		if !t.skip && len(t.changes) == 0 {
			work[0].txns = append(work[0].txns, t)
		}
	}
	for s := range work {
		slices.SortFunc(work[s].txns, func(x, y *txn) int { return x.ordinal - y.ordinal })
	}
	var base bitset
	if a.resume != nil {
		base = a.resume.Applied
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for s := range work {
		if len(work[s].txns) == 0 {
			continue
		}
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for attempt := 1; ; attempt++ {
				err := a.commitSlot(cctx, s, ep, work[s].txns, base)
				// Slots share no key, but InnoDB's next-key locks on unique
				// indexes can still cross: the victim rolled back, and runs again.
				if err != nil && dbconn.IsLockConflict(err) && attempt < 20 && cctx.Err() == nil {
					time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
					continue
				}
				if err != nil {
					errs[s] = err
					cancel()
				}
				return
			}
		}(s)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

func tableID(t *target) uint64 { return tableIDOf(t.srcDB, t.srcTable) }

func tableIDOf(db, table string) uint64 {
	var h uint64 = 1469598103934665603
	for _, s := range []string{db, table} {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}

// conn returns slot s's destination connection with the writer session.
// The slice is made in New: slots run concurrently, each on its own element.
func (a *Applier) conn(ctx context.Context, s int) (*sql.Conn, error) {
	if c := a.conns[s]; c != nil {
		return c, nil
	}
	c, err := a.cfg.Dest.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("applier: connect to the destination: %w", err)
	}
	// unique_checks stay on: rows land in tables that hold rows. READ COMMITTED:
	// fewer gap locks between the slots' concurrent transactions.
	for _, q := range []string{rowcodec.WriterSession(rowcodec.Ignore), "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			c.Close()
			return nil, fmt.Errorf("applier: prepare the destination session: %w", err)
		}
	}
	a.conns[s] = c
	return c, nil
}

func (a *Applier) dropConn(s int) {
	if s < len(a.conns) && a.conns[s] != nil {
		a.conns[s].Close()
		a.conns[s] = nil
	}
}

// commitSlot applies txns in one destination transaction with the slot's
// checkpoint: all of them and the checkpoint, or nothing.
func (a *Applier) commitSlot(ctx context.Context, s int, ep *epochBatch, txns []*txn, base bitset) (err error) {
	c, err := a.conn(ctx, s)
	if err != nil {
		return err
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		a.dropConn(s)
		return fmt.Errorf("applier: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
			a.dropConn(s)
		}
	}()
	w := writer{tx: tx, replace: a.cfg.Replace, multi: a.cfg.MultiStatements}
	applied := base.or(nil)
	var last time.Time
	rows := 0
	for _, t := range txns {
		safe := a.task.SafeUntil != (binlog.Position{}) && t.end.Compare(a.task.SafeUntil) <= 0
		for _, ch := range t.changes {
			if err := w.add(ctx, ch, safe); err != nil {
				return fmt.Errorf("applier: transaction ending at %s: %w", t.end, err)
			}
		}
		rows += len(t.changes)
		applied = applied.with(t.ordinal)
		if t.time.After(last) {
			last = t.time
		}
		if t.hb.After(last) {
			last = t.hb
		}
	}
	if err := w.finish(ctx); err != nil {
		return fmt.Errorf("applier: epoch ending at %s: %w", ep.end, err)
	}
	if err := a.store.fence(ctx, tx, a.generation); err != nil {
		return err
	}
	if err := a.store.save(ctx, tx, s, a.epoch, ep.start, ep.end, applied, len(txns), rows, last); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("applier: commit epoch ending at %s: %w", ep.end, err)
	}
	return nil
}

// applyDDL runs a DDL transaction: marked pending first (a crash between the DDL
// and its checkpoint leaves the mark, and the re-run tolerates "already done"
// errors for that one statement), then its checkpoint clears the mark.
func (a *Applier) applyDDL(ctx context.Context, ep *epochBatch) error {
	t := ep.txns[0]
	if t.skip {
		return nil
	}
	if len(t.changes) > 0 {
		return fmt.Errorf("applier: transaction ending at %s mixes DDL and rows (CREATE TABLE ... SELECT?): not supported", t.end)
	}
	mark := t.end.String()
	retried := a.task.DDLPending == mark
	// A DDL is not transactional: check before it that the task is still ours.
	if err := a.store.check(ctx, a.generation); err != nil {
		return err
	}
	if err := a.store.setDDLPending(ctx, a.cfg.Dest, mark, a.generation); err != nil {
		return err
	}
	release, err := a.store.hold(ctx, a.generation)
	if err != nil {
		return err
	}
	if err := a.runDDL(ctx, t, mark, retried); err != nil {
		release()
		return err
	}
	// Released before the checkpoint, whose transaction updates the same row.
	release()
	if a.afterDDL != nil {
		if err := a.afterDDL(); err != nil {
			return err
		}
	}
	// Definitions changed: targets and keys are read again.
	a.targets = map[string]*target{}
	a.keys = map[string][]sourceKey{}
	a.fks = map[string][]foreignKey{}
	c, err := a.conn(ctx, 0)
	if err != nil {
		return err
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		a.dropConn(0)
		return fmt.Errorf("applier: begin: %w", err)
	}
	applied := bitset(nil).with(t.ordinal)
	if err := a.store.fenceExclusive(ctx, tx, a.generation); err != nil {
		tx.Rollback()
		return err
	}
	if err := a.store.setDDLPending(ctx, tx, "", a.generation); err != nil {
		tx.Rollback()
		return err
	}
	if err := a.store.save(ctx, tx, 0, a.epoch, ep.start, ep.end, applied, 1, 0, t.time); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		a.dropConn(0)
		return fmt.Errorf("applier: commit DDL checkpoint at %s: %w", t.end, err)
	}
	a.task.DDLPending = ""
	return nil
}

// runDDL updates the history and runs the destination's statements of a DDL.
func (a *Applier) runDDL(ctx context.Context, t *txn, mark string, retried bool) error {
	var stmts []string
	if a.cfg.DDL != nil {
		var err error
		if stmts, err = a.cfg.DDL(ctx, t.ddl.schema, t.ddl.sql, mark, retried); err != nil {
			return fmt.Errorf("applier: DDL at %s: %w", t.end, err)
		}
	}
	if len(stmts) > 0 {
		c, err := a.conn(ctx, 0)
		if err != nil {
			return err
		}
		// The source's statement time, as replication does: DEFAULT
		// CURRENT_TIMESTAMP fills existing rows with the source's value.
		if !t.time.IsZero() {
			if _, err := c.ExecContext(ctx, "SET TIMESTAMP = ?", t.time.Unix()); err != nil {
				a.dropConn(0)
				return fmt.Errorf("applier: DDL at %s: %w", t.end, err)
			}
			defer c.ExecContext(context.WithoutCancel(ctx), "SET TIMESTAMP = DEFAULT") //nolint:errcheck // the connection is dropped on errors
		}
		for i, q := range stmts {
			if _, err := c.ExecContext(ctx, q); err != nil {
				if retried && dbconn.DDLAlreadyApplied(err) {
					continue
				}
				a.dropConn(0)
				// Not the statement text: it lands in Temporal's history and logs.
				return fmt.Errorf("applier: DDL at %s (statement %d of %d on the destination): %w", t.end, i+1, len(stmts), err)
			}
		}
		a.prog.DDL++
	}
	return nil
}
