package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/applier"
	"github.com/sluice-dev/sluice/binlog"
	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/etl"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/rowcodec"
	"github.com/sluice-dev/sluice/schemahist"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

// HeartbeatThrottle is the worker's MaxHeartbeatThrottleInterval: heartbeats carry
// the live replication progress.
const HeartbeatThrottle = time.Second

// ErrIncrementalFailed is the ApplicationError type of a replication error that
// retrying cannot fix (a schema mismatch, a duplicate key: the destination diverged).
const ErrIncrementalFailed = "IncrementalFailed"

// StartIncremental registers the task on the destination and fixes where it
// starts: the full copy's start position, else options.incremental.start, else
// the source's position now. Safe mode lasts until the source's position now
// when a full copy preceded (its rows may be newer than the events before it).
func (a *Activities) StartIncremental(ctx context.Context, s spec.Spec, task string, start *workflows.BinlogPosition) (workflows.IncrementalStart, error) {
	src, dst, err := a.open(ctx, s)
	if err != nil {
		return workflows.IncrementalStart{}, err
	}
	defer src.Close()
	defer dst.Close()
	now, err := inspect.BinlogPosition(ctx, src)
	if err != nil {
		return workflows.IncrementalStart{}, classify(fmt.Errorf("incremental: read the source binlog position: %w", err))
	}
	if now == nil {
		return workflows.IncrementalStart{}, temporal.NewNonRetryableApplicationError("incremental: the source has no binary log (log_bin is OFF): enable it (log_bin, binlog_format=ROW) and restart the source", ErrIncrementalFailed, nil)
	}
	out := workflows.IncrementalStart{Task: task}
	switch p := s.Options.Incremental.Start; {
	case start != nil:
		out.Start = *start
		out.SafeUntil = &workflows.BinlogPosition{File: now.File, Pos: now.Pos, GTID: now.GTID}
	case !p.IsZero():
		out.Start = workflows.BinlogPosition{File: p.BinlogFile, Pos: uint64(p.BinlogPos), GTID: p.GTID}
	default:
		out.Start = workflows.BinlogPosition{File: now.File, Pos: now.Pos, GTID: now.GTID}
	}
	store, err := applier.OpenStore(ctx, dst, task)
	if err != nil {
		return out, classify(err)
	}
	var safe binlog.Position
	if out.SafeUntil != nil {
		safe = binlog.Position(*out.SafeUntil)
	}
	t, err := store.Start(ctx, safe)
	if err != nil {
		return out, classifyIncremental(err)
	}
	// A retried StartIncremental keeps the first safe-mode end.
	if t.SafeUntil != (binlog.Position{}) {
		out.SafeUntil = &workflows.BinlogPosition{File: t.SafeUntil.File, Pos: t.SafeUntil.Pos, GTID: t.SafeUntil.GTID}
	}
	return out, nil
}

// FinishIncremental fences the task: from now on no applier writes for it.
func (a *Activities) FinishIncremental(ctx context.Context, s spec.Spec, task, summary string) (workflows.IncrementalProgress, error) {
	dst, err := a.openDest(ctx, s)
	if err != nil {
		return workflows.IncrementalProgress{}, err
	}
	defer dst.Close()
	store, err := applier.OpenStore(ctx, dst, task)
	if err != nil {
		return workflows.IncrementalProgress{}, classify(err)
	}
	if err := store.Finish(ctx, summary); err != nil {
		return workflows.IncrementalProgress{}, classify(err)
	}
	if h, err := schemahist.Open(ctx, dst, task, nil); err == nil {
		if err := h.Drop(ctx); err != nil {
			a.Log.Warn("the schema history's shadow databases were not dropped", zap.Error(err))
		}
	}
	r, _, err := store.Resume(ctx)
	if err != nil {
		return workflows.IncrementalProgress{}, classify(err)
	}
	return workflows.IncrementalProgress{Stage: workflows.StageStopped, Position: workflows.BinlogPosition(r.End),
		Txns: r.Txns, Rows: r.Rows, SourceTime: r.SourceTime, At: time.Now().UTC()}, nil
}

// openDest connects to the destination only.
func (a *Activities) openDest(ctx context.Context, s spec.Spec) (*sql.DB, error) {
	src, dst, err := a.open(ctx, s)
	if err != nil {
		return nil, err
	}
	src.Close()
	return dst, nil
}

// selection adapts the resolved workflow file to applier.Selection and
// ddl.Selector: tables known at the start through the resolved names, tables
// created later through the workflow file's rules (plan.Resolve on that one
// name: its entry's renames, exclusions, operations and the case policy), and
// tables renamed during replication through the entry they were migrated under
// (origins, kept by the schema history).
type selection struct {
	names   ddl.Names
	ops     map[plan.Name][]string
	entries map[plan.Name]spec.Table
	spec    spec.Spec
	lct     int
	opts    plan.Options
	mu      sync.Mutex
	later   map[plan.Name]*plan.Plan // nil: not selected
	// origins maps a renamed table to the name whose entry applies.
	origins map[plan.Name]plan.Name
	// ghost: with online_ddl gh-ost, its tables are never replicated.
	ghost *ddl.GhostNames
}

func newSelection(s spec.Spec, r *resolvedSchema) *selection {
	sel := &selection{names: r.names, ops: map[plan.Name][]string{}, entries: map[plan.Name]spec.Table{}, spec: s, opts: r.resolved.Options,
		later: map[plan.Name]*plan.Plan{}, origins: map[plan.Name]plan.Name{}}
	if r.resolved.Plan.SourceFoldsCase {
		sel.lct = 1
	}
	for _, t := range r.resolved.Plan.Tables {
		sel.ops[t.Source] = t.Entry.Operations
		sel.entries[t.Source] = t.Entry
	}
	return sel
}

// Entry is the workflow-file entry a replicated table answers to (its filter
// and transforms).
func (s *selection) Entry(db, table string) (spec.Table, bool) {
	o := s.originOf(plan.Name{DB: db, Table: table})
	if e, ok := s.entries[o]; ok {
		return e, true
	}
	if p := s.resolve(o.DB, o.Table); p != nil {
		return p.Tables[0].Entry, true
	}
	return spec.Table{}, false
}

// loadOrigins reads the renames recorded by earlier attempts.
func (s *selection) loadOrigins(ctx context.Context, h *schemahist.History) error {
	o, err := h.Origins(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, from := range o {
		s.origins[plan.Name{DB: t.DB, Table: t.Name}] = plan.Name{DB: from.DB, Table: from.Name}
	}
	return nil
}

// track follows a replicated DDL's renames, drops and creations: a renamed
// table keeps its entry, a dropped or created name loses any inherited one.
func (s *selection) track(ctx context.Context, h *schemahist.History, rd ddl.ReplicatedDDL) error {
	set := func(t, origin plan.Name) error {
		s.mu.Lock()
		if t == origin {
			delete(s.origins, t)
		} else {
			s.origins[t] = origin
		}
		s.mu.Unlock()
		return h.SetOrigin(ctx, schemahist.Table{DB: t.DB, Name: t.Table}, schemahist.Table{DB: origin.DB, Name: origin.Table})
	}
	switch rd.Kind {
	case ddl.KindRenameTable:
		// Pairs in statement order (a later pair may move a name an earlier one
		// set). The old name keeps its mapping: a replay after a crash then
		// computes the same, and a table created under that name later clears it.
		for i := 0; i+1 < len(rd.Tables); i += 2 {
			from := plan.Name{DB: rd.Tables[i].Database, Table: rd.Tables[i].Name}
			to := plan.Name{DB: rd.Tables[i+1].Database, Table: rd.Tables[i+1].Name}
			if err := set(to, s.originOf(from)); err != nil {
				return err
			}
		}
	case ddl.KindCreateTable, ddl.KindDropTable:
		for _, t := range rd.Tables {
			n := plan.Name{DB: t.Database, Table: t.Name}
			s.mu.Lock()
			_, had := s.origins[n]
			s.mu.Unlock()
			if had {
				if err := set(n, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// originOf is the name whose entry applies to db.table.
func (s *selection) originOf(n plan.Name) plan.Name {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.origins[n]; ok {
		return o
	}
	return n
}

func (s *selection) Table(db, table string) (string, string, bool) {
	if db == applier.MetaSchema || s.ghost.Ignored(table) {
		return "", "", false
	}
	if d, t, ok := s.names.Table(db, table); ok {
		return d, t, true
	}
	if p := s.resolve(db, table); p != nil {
		return p.Tables[0].Dest.DB, p.Tables[0].Dest.Table, true
	}
	return "", "", false
}

func (s *selection) Column(db, table, column string) (string, bool) {
	o := s.originOf(plan.Name{DB: db, Table: table})
	if _, _, ok := s.names.Table(o.DB, o.Table); ok {
		return s.names.Column(o.DB, o.Table, column)
	}
	if p := s.resolve(o.DB, o.Table); p != nil {
		return p.Names().Column(o.DB, o.Table, column)
	}
	return column, false
}

func (s *selection) Database(db string) string { return s.names.Database(db) }

func (s *selection) Operations(db, table string) []string {
	o := s.originOf(plan.Name{DB: db, Table: table})
	if ops, ok := s.ops[o]; ok {
		return ops
	}
	if p := s.resolve(o.DB, o.Table); p != nil {
		return p.Tables[0].Entry.Operations
	}
	return nil
}

// replicatesDDL: the table's entry lists ddl among its operations (or lists none).
func (s *selection) replicatesDDL(db, table string) bool {
	ops := s.Operations(db, table)
	return ops == nil || slices.Contains(ops, spec.OpDDL)
}

// tableKind: DDL on tables, which a table's operations (ddl) can leave out.
func tableKind(k ddl.DDLKind) bool {
	switch k {
	case ddl.KindAlterTable, ddl.KindCreateTable, ddl.KindDropTable, ddl.KindRenameTable,
		ddl.KindTruncateTable, ddl.KindCreateIndex, ddl.KindDropIndex:
		return true
	}
	return false
}

// Selects applies the workflow file's selection to a name it may not have seen.
func (s *selection) Selects(db, table string) bool {
	if db == applier.MetaSchema || s.ghost.Ignored(table) {
		return false
	}
	if _, _, ok := s.names.Table(db, table); ok {
		return true
	}
	return s.resolve(db, table) != nil
}

// resolve is the one-table plan of a name not known at the start (nil: not
// selected).
func (s *selection) resolve(db, table string) *plan.Plan {
	if db == applier.MetaSchema || s.ghost.Ignored(table) {
		return nil
	}
	k := plan.Name{DB: db, Table: table}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.later[k]; ok {
		return p
	}
	p := plan.Resolve(s.spec, plan.Catalog{Tables: map[string][]string{db: {table}}, LowerCaseTableNames: s.lct}, s.opts)
	if len(p.Tables) == 0 {
		s.later[k] = nil
		return nil
	}
	s.later[k] = &p
	return &p
}

// SelectsDatabase: an object names db; all its tables when it lists none or "*".
func (s *selection) SelectsDatabase(db string) (bool, bool) {
	selected, all := false, false
	for _, o := range s.spec.Objects {
		if o.Database != db && !(s.lct != 0 && strings.EqualFold(o.Database, db)) {
			continue
		}
		selected = true
		if len(o.Tables) == 0 {
			all = true
		}
		for _, t := range o.Tables {
			all = all || t.Name == "*"
		}
	}
	return selected, all
}

// Incremental replicates from the task's checkpoint until it is cancelled (stop,
// or a cutover request restarting it) or, with in.Cutover, until the cutover's
// conditions hold: then it fences the task and returns the final progress.
func (a *Activities) Incremental(ctx context.Context, in workflows.IncrementalInput) (workflows.IncrementalProgress, error) {
	// The lag alert's state travels from attempt to attempt in the heartbeat,
	// so a replication that keeps failing (the destination down) still alerts:
	// a failing attempt measures the lag from the last applied source time.
	var prev workflows.IncrementalProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &prev)
	}
	lagAlert := a.lagAlerts(in.Spec, activity.GetInfo(ctx).WorkflowExecution.ID)
	lagAlert.restore(prev)
	p, err := a.incremental(ctx, in, lagAlert)
	if err != nil && lagAlert != nil && !prev.SourceTime.IsZero() && p.At.IsZero() {
		// Failed before its first heartbeat: one lag sample for the alert.
		prev.LagSeconds = max(0, time.Since(prev.SourceTime).Seconds())
		lagAlert.observe(prev.LagSeconds)
		lagAlert.save(&prev)
		prev.At = time.Now().UTC()
		heartbeat(ctx, prev, false)
	}
	return p, err
}

func (a *Activities) incremental(ctx context.Context, in workflows.IncrementalInput, lagAlert *lagAlerts) (workflows.IncrementalProgress, error) {
	s := in.Spec
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return workflows.IncrementalProgress{}, err
	}
	defer done()
	sel := newSelection(s, r)
	var safe binlog.Position
	if in.SafeUntil != nil {
		safe = binlog.Position(*in.SafeUntil)
	}

	var mu sync.Mutex
	prog := workflows.IncrementalProgress{Stage: workflows.StageReplicating}
	if in.Cutover != nil {
		prog.Stage = workflows.StageCatchingUp
	}
	var last applier.Progress
	offset := sourceClockOffset(ctx, src)
	lagOf := func(p applier.Progress) float64 {
		// Caught up, as of a report of the last seconds (the reader reports idle
		// every heartbeat; a lost connection reports nothing).
		if (p.CaughtUp && time.Since(p.At) < 3*time.Second) || p.SourceTime.IsZero() {
			return 0
		}
		return max(0, time.Now().Add(offset).Sub(p.SourceTime).Seconds())
	}
	snapshot := func() workflows.IncrementalProgress {
		mu.Lock()
		defer mu.Unlock()
		p := prog
		p.Position = workflows.BinlogPosition(last.Position)
		p.LagSeconds = lagOf(last)
		p.CaughtUp, p.SourceTime, p.Txns, p.Rows, p.DDL, p.SafeMode = last.CaughtUp, last.SourceTime, last.Txns, last.Rows, last.DDL, last.SafeMode
		p.ETLSkipped = last.ETLSkipped
		p.At = time.Now().UTC()
		lagAlert.save(&p)
		return p
	}
	var runCtx context.Context
	stopRun := func() {}
	defer func() { stopRun() }()
	hist, err := schemahist.Open(ctx, dst, in.Task, sel)
	if err != nil {
		return workflows.IncrementalProgress{}, classify(err)
	}
	if err := sel.loadOrigins(ctx, hist); err != nil {
		return workflows.IncrementalProgress{}, classify(err)
	}
	var ghost *ddl.GhostNames
	if s.Options.OnlineDDL == "gh-ost" {
		if ghost, err = ddl.CompileGhostNames(s.Options.GhOst.ShadowTable, s.Options.GhOst.TrashTable); err != nil {
			return workflows.IncrementalProgress{}, temporal.NewNonRetryableApplicationError("options.gh_ost: "+err.Error(), ErrIncrementalFailed, nil)
		}
		sel.ghost = ghost
	}
	// The applier's own pool: multi-statement batches, one round trip per slot
	// and epoch (measured: 3.9 statements per sysbench transaction otherwise).
	applyDB, err := dbconn.Open(ctx, "destination", s.Destination, a.LookupEnv, dbconn.MultiStatements)
	if err != nil {
		return workflows.IncrementalProgress{}, classify(err)
	}
	defer applyDB.Close()
	cfg := applier.Config{
		KeySource:       func(db string) (*sql.DB, string) { return dst, hist.Shadow(db) },
		SourceDB:        hist.SourceOf,
		MultiStatements: true,
		Task:            in.Task, Dest: applyDB, Source: src, Select: sel,
		Slots:         s.Options.Incremental.Parallel,
		Replace:       s.Options.Conflicts == "ignore",
		HeartbeatTask: in.Task,
		DDL: func(ctx context.Context, schema, statement, at string, retried bool) ([]string, error) {
			if retried {
				// Running it again would succeed with another result (a swap swaps
				// back, in the history too), and whether it ran before the crash
				// cannot be told: stop rather than guess.
				// (A RENAME cycle is guarded by the history: it runs once.)
				if pre, err := ddl.ReplicateDDL(schema, statement, sel, ghost); err == nil && pre.NotIdempotent != "" && pre.Kind != ddl.KindRenameTable {
					return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("a %s at %s was interrupted between the destination DDL and its checkpoint, and running it again would not be safe (%s): compare the tables it names on the destination with the source, then start the migration again", pre.Kind, at, pre.NotIdempotent), ErrIncrementalFailed, nil)
				}
			}
			rd, err := hist.Replicate(ctx, sel, ghost, schema, statement, at, retried)
			if err != nil {
				return nil, err
			}
			if rd.Kind == ddl.KindDML {
				for _, t := range rd.Tables {
					if sel.Selects(t.Database, t.Name) {
						return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("a row change to %s was logged as a statement (a session with binlog_format other than ROW): its rows are not in the binlog, so it cannot be replicated exactly; set binlog_format=ROW for every session (SET GLOBAL and reconnect) and restart the migration", plan.Name{DB: t.Database, Table: t.Name}), ErrIncrementalFailed, nil)
					}
				}
			}
			// operations without ddl: the destination keeps the table's definition
			// and data (no ALTER, index change, TRUNCATE or DROP); the history
			// follows the source all the same. Creating and renaming a table are
			// not changes of one: its rows need the table under that name (a
			// CREATE after a DROP that was not replayed finds it there).
			if len(rd.Statements) > 0 && tableKind(rd.Kind) && rd.Kind != ddl.KindRenameTable {
				for _, t := range rd.Tables {
					if !sel.Selects(t.Database, t.Name) || sel.replicatesDDL(t.Database, t.Name) {
						continue
					}
					if rd.Kind == ddl.KindCreateTable {
						for i, q := range rd.Statements {
							if rest, ok := strings.CutPrefix(q, "CREATE TABLE "); ok && !strings.HasPrefix(rest, "IF NOT EXISTS") {
								rd.Statements[i] = "CREATE TABLE IF NOT EXISTS " + rest
							}
						}
						break
					}
					a.Log.Warn("replicated DDL skipped: the table's operations exclude ddl (the destination keeps its definition)",
						zap.String("workflow", in.Task), zap.String("kind", string(rd.Kind)), zap.String("table", plan.Name{DB: t.Database, Table: t.Name}.String()))
					return nil, nil
				}
			}
			if err := sel.track(ctx, hist, rd); err != nil {
				return nil, err
			}
			if rd.Deferred != "" {
				a.Log.Warn("a trigger created on the source during replication is not created on the destination; create it after the cutover",
					zap.String("workflow", in.Task), zap.Any("tables", rd.Tables))
			}
			if len(rd.Statements) == 0 {
				a.Log.Info("replicated DDL: nothing to run on the destination", zap.String("kind", string(rd.Kind)), zap.String("why", rd.Skip))
			} else {
				a.Log.Info("replicated DDL", zap.String("workflow", in.Task), zap.String("kind", string(rd.Kind)), zap.Any("objects", rd.Tables),
					zap.Int("statements", len(rd.Statements)), zap.String("at", at))
			}
			return rd.Statements, nil
		},
		OnEpoch: func(p applier.Progress) {
			mu.Lock()
			last = p
			mu.Unlock()
		},
		// Filters and transforms, compiled for the definition being read: the
		// history's shadow of the table (columns, keys) as of the event.
		ETL: func(ctx context.Context, db, table string, cols []rowcodec.Column) (*etl.Program, error) {
			e, ok := sel.Entry(db, table)
			if !ok || (e.Filter == "" && len(e.Transform) == 0) {
				return nil, nil
			}
			t, err := etl.LoadTable(ctx, dst, hist.Shadow(db), table)
			if err != nil {
				return nil, fmt.Errorf("etl: %s: %w", plan.Name{DB: db, Table: table}, err)
			}
			t.Schema = db
			if len(t.Columns) != len(cols) {
				return nil, fmt.Errorf("etl: %s: the history has %d columns, the binlog %d", plan.Name{DB: db, Table: table}, len(t.Columns), len(cols))
			}
			p, err := etl.Compile(t, etl.Spec{Filter: e.Filter, Transform: e.Transform})
			if err != nil {
				return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("etl: %s: the expressions do not type-check against the table as of this event (a DDL changed it): %v", plan.Name{DB: db, Table: table}, err), ErrETL, nil)
			}
			return p, nil
		},
		SkipETLErrors: s.Options.ETL.OnError == spec.ETLSkip,
		OnETLSkip: func(err error) {
			a.Log.Warn("etl: change skipped (options.etl.on_error: skip)", zap.String("workflow", in.Task), zap.Error(err))
		},
	}
	info := activity.GetInfo(ctx)
	lim, release := a.controlled(ctx, info.WorkflowExecution.ID, "", s, useReplication)
	defer release()
	cfg.Limiter = a.timedLimiter(lim, info.WorkflowExecution.ID, "incremental")
	cfg.OnApplied = func(db, table string, rows int) { a.Metrics.AppliedRows(info.WorkflowExecution.ID, db+"."+table, rows) }
	// The lag is this worker's to report only while it replicates.
	defer a.Metrics.Forget(info.WorkflowExecution.ID, true, false)
	ap, err := applier.New(ctx, cfg, safe)
	if errors.Is(err, applier.ErrFenced) && in.Cutover != nil {
		// A cutover attempt that fenced the task and died before reporting it:
		// the cutover is done; report where it ended.
		store, serr := applier.OpenStore(ctx, dst, in.Task)
		if serr != nil {
			return workflows.IncrementalProgress{}, classify(serr)
		}
		r, _, serr := store.Resume(ctx)
		if serr != nil {
			return workflows.IncrementalProgress{}, classify(serr)
		}
		return workflows.IncrementalProgress{Stage: workflows.StageCutOver, Position: workflows.BinlogPosition(r.End), Txns: r.Txns, Rows: r.Rows,
			SourceTime: r.SourceTime, At: time.Now().UTC()}, nil
	}
	if err != nil {
		return workflows.IncrementalProgress{}, classifyIncremental(err)
	}
	defer ap.Close()
	last = ap.Progress()
	from, ok := ap.Checkpoint()
	if !ok {
		from = binlog.Position(in.Start)
		ap.SetStart(from)
		last = ap.Progress()
	}
	// The schema history starts as the source's definitions now: right when no
	// DDL ran between the start position and now (the full copy holds none).
	if done, err := hist.Initialized(ctx); err != nil {
		return workflows.IncrementalProgress{}, classify(err)
	} else if !done {
		var tables []schemahist.Table
		for _, t := range r.resolved.Plan.Tables {
			tables = append(tables, schemahist.Table{DB: t.Source.DB, Name: t.Source.Table})
		}
		if err := hist.Init(ctx, src, tables); err != nil {
			return workflows.IncrementalProgress{}, classifyIncremental(err)
		}
	}
	a.Log.Info("incremental replication starts", zap.String("workflow", info.WorkflowExecution.ID),
		zap.Int32("attempt", info.Attempt), zap.Stringer("from", from), zap.Bool("cutover", in.Cutover != nil))

	bcfg := binlog.Config{
		Endpoint: s.Source, Env: a.LookupEnv, ServerID: binlog.ServerIDFor(in.Task),
		// The reader reconnects for as long as it takes; the heartbeat below
		// applies options.retry.connection to the outage (and shows it).
		ReconnectAttempts: -1,
		Lookup: func(ctx context.Context, db, table string) (*binlog.Table, error) {
			if db == applier.MetaSchema && table == applier.HeartbeatTable {
				return binlog.LoadTable(ctx, src, db, table)
			}
			return hist.Lookup(ctx, db, table)
		},
	}
	// run opens the binlog at the checkpoint and applies from it until stopRun
	// (a pause closes the stream; resume opens it again at the checkpoint).
	var stream *binlog.Stream
	var reading atomic.Pointer[binlog.Stream] // stream, for the heartbeat goroutine
	runErr := make(chan error, 1)
	run := func() error {
		from, _ := ap.Checkpoint()
		st, err := binlog.Open(ctx, bcfg, from)
		if err != nil {
			return classifyIncremental(fmt.Errorf("incremental: open the source binlog at %s: %w", from, err))
		}
		stream = st
		reading.Store(st)
		runCtx, stopRun = context.WithCancel(ctx)
		go func() { runErr <- ap.Run(runCtx, st) }()
		return nil
	}
	defer func() {
		if stream != nil {
			stream.Close()
		}
	}()

	// The heartbeat writer makes lag exact on an idle source; a cutover stops it
	// once writes are to stop (its own writes would keep the position moving).
	hbCtx, stopHB := context.WithCancel(ctx)
	defer stopHB()
	hbState := make(chan string, 1)
	if s.Options.HeartbeatOn() {
		go a.writeHeartbeats(hbCtx, src, in.Task, hbState)
	} else {
		hbState <- "off (options.heartbeat: false)"
	}

	// Heartbeats to Temporal carry the progress (sluice status shows it).
	windowOut := make(chan error, 1)
	beatCtx, stopBeats := context.WithCancel(ctx)
	defer stopBeats()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		attemptStart := time.Now()
		// What the metrics have counted (the checkpoint's totals at the start
		// are earlier attempts').
		mu.Lock()
		counted := last
		mu.Unlock()
		downSeen := attemptStart // the binlog connection was last seen down (or the attempt began)
		beat := func() {
			mu.Lock()
			// Progress: a report of the applier (an epoch, or idle on an open
			// binlog) after the connection was last seen down.
			advanced := last.At.After(downSeen)
			a.Metrics.Applied(info.WorkflowExecution.ID, last.Txns-counted.Txns)
			counted = last
			mu.Unlock()
			if st := reading.Load(); st != nil {
				if o := st.Disconnected(); o != nil {
					// The reader reconnects by itself: an outage all the same,
					// shown and bounded by the connection window.
					advanced, downSeen = false, time.Now()
					if at := attemptIn(ctx); at != nil {
						err := at.down(ClassConnection, o.Since, fmt.Errorf("incremental: the source's binlog connection is lost, reconnecting: %w", o.Cause))
						if err != nil {
							select {
							case windowOut <- err:
							default:
							}
						}
					}
				}
			}
			p := snapshot()
			a.Metrics.Lag(info.WorkflowExecution.ID, p.LagSeconds)
			lagAlert.observe(p.LagSeconds)
			heartbeat(ctx, p, advanced)
		}
		beat()
		for {
			select {
			case <-beatCtx.Done():
				return
			case h := <-hbState:
				mu.Lock()
				prog.Heartbeat = h
				mu.Unlock()
			case <-t.C:
				beat()
			}
		}
	}()

	// A pause (sluice pause) ends the run at its last epoch and closes the
	// binlog connection (a stream left unread would be cut by the source's
	// net_write_timeout); the activity stays, heartbeating its growing lag, and
	// opens the binlog again on resume. A worker restarting meanwhile finds the
	// pause before it opens anything.
	pauseTick := time.NewTicker(250 * time.Millisecond)
	defer pauseTick.Stop()
	paused := func() bool { return lim.Paused() }
	waitResume := func(deadline <-chan time.Time) error {
		mu.Lock()
		resumeStage := prog.Stage
		prog.Stage = workflows.StagePaused
		mu.Unlock()
		a.Log.Info("incremental replication paused", zap.String("workflow", info.WorkflowExecution.ID), zap.Stringer("at", ap.Progress().Position))
		for paused() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-activity.GetWorkerStopChannel(ctx):
				return temporal.NewApplicationError("the worker is stopping; another one resumes from the checkpoint", "WorkerStopping")
			case <-deadline:
				return temporal.NewNonRetryableApplicationError(fmt.Sprintf("cutover did not complete within %s: replication is paused (sluice resume, then cut over again); replication goes on", in.Cutover.Timeout), workflows.ErrCutoverTimeout, nil)
			case <-pauseTick.C:
			}
		}
		mu.Lock()
		prog.Stage = resumeStage
		mu.Unlock()
		a.Log.Info("incremental replication resumed", zap.String("workflow", info.WorkflowExecution.ID))
		return nil
	}

	var deadline <-chan time.Time
	var check <-chan time.Time
	var cutTarget *inspect.Position
	started := time.Now()
	if c := in.Cutover; c != nil {
		deadline = time.After(c.Timeout)
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		check = tk.C
	}
	if paused() {
		if err := waitResume(deadline); err != nil {
			return snapshot(), err
		}
	}
	if err := run(); err != nil {
		return snapshot(), err
	}
	for {
		select {
		case <-pauseTick.C:
			if !paused() {
				continue
			}
			stopRun()
			if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
				if ctx.Err() != nil {
					return snapshot(), ctx.Err()
				}
				return snapshot(), classifyIncremental(err)
			}
			stream.Close()
			stream = nil
			reading.Store(nil)
			if err := waitResume(deadline); err != nil {
				return snapshot(), err
			}
			if err := run(); err != nil {
				return snapshot(), err
			}
		case err := <-windowOut:
			stopRun()
			<-runErr
			return snapshot(), err
		case err := <-runErr:
			if ctx.Err() != nil {
				return snapshot(), ctx.Err()
			}
			return snapshot(), classifyIncremental(err)
		case <-activity.GetWorkerStopChannel(ctx):
			stopRun()
			<-runErr
			return snapshot(), temporal.NewApplicationError("the worker is stopping; another one resumes from the checkpoint", "WorkerStopping")
		case <-deadline:
			stopRun()
			<-runErr
			p := snapshot()
			return p, temporal.NewNonRetryableApplicationError(fmt.Sprintf("cutover did not complete within %s (stage %q, lag %.1fs): replication goes on; retry with a longer --timeout, or stop writes on the source sooner", in.Cutover.Timeout, p.Stage, p.LagSeconds), workflows.ErrCutoverTimeout, nil)
		case <-check:
			p := snapshot()
			switch p.Stage {
			case workflows.StageCatchingUp:
				if p.LagSeconds <= in.Cutover.MaxLag.Seconds() {
					stopHB()
					mu.Lock()
					prog.Stage = workflows.StageStopWrites
					mu.Unlock()
					a.Log.Info("cutover: lag within bound; writes on the source can stop", zap.Float64("lag_seconds", p.LagSeconds))
				}
			case workflows.StageStopWrites, workflows.StageDraining:
				now, err := inspect.BinlogPosition(ctx, src)
				if err != nil || now == nil {
					continue
				}
				mu.Lock()
				prog.SourcePosition = &workflows.BinlogPosition{File: now.File, Pos: now.Pos, GTID: now.GTID}
				lastChange := last.LastChange
				mu.Unlock()
				// The target is the source's position at the previous check: on a
				// source busy with other databases the applier is always a few
				// milliseconds behind the position of this very moment.
				target := cutTarget
				cutTarget = now
				if target == nil {
					continue
				}
				if lastChange.IsZero() {
					// Nothing applied by this attempt yet: quiet counts from its start.
					lastChange = started
				}
				if !reached(stream.Flavor(), binlog.Position(p.Position), binlog.Position(*target)) {
					// Everything the source committed before now is not applied
					// yet (other databases' writes count too: the applier reads
					// past them).
					mu.Lock()
					prog.Stage = workflows.StageDraining
					mu.Unlock()
					continue
				}
				// Applied up to the source's position of a moment ago, and no change
				// of a replicated table for two seconds: the application has
				// stopped writing (writes elsewhere on the source do not matter).
				if time.Since(lastChange) < quietFor {
					mu.Lock()
					prog.Stage = workflows.StageStopWrites
					mu.Unlock()
					continue
				}
				stopRun()
				if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
					return snapshot(), classifyIncremental(err)
				}
				final := snapshot()
				final.Stage, final.LagSeconds = workflows.StageCutOver, 0
				store, err := applier.OpenStore(ctx, dst, in.Task)
				if err != nil {
					return final, classify(err)
				}
				if err := store.Finish(ctx, fmt.Sprintf("cut over at %s:%d (gtid %s)", final.Position.File, final.Position.Pos, final.Position.GTID)); err != nil {
					return final, classify(err)
				}
				if err := hist.Drop(ctx); err != nil {
					a.Log.Warn("cutover: the schema history's shadow databases were not dropped", zap.Error(err))
				}
				a.Log.Info("cutover complete", zap.Any("position", final.Position), zap.Uint64("txns", final.Txns))
				return final, nil
			}
		}
	}
}

// quietFor is how long no replicated table may change before a cutover fences
// the task.
const quietFor = 2 * time.Second

// HeartbeatTable on the source: one row per task, its time written every second.
const heartbeatDDL = "CREATE TABLE IF NOT EXISTS `sluice`.`heartbeat` (`task` VARBINARY(512) NOT NULL PRIMARY KEY, `ts` DATETIME(6) NOT NULL) ENGINE=InnoDB"

// writeHeartbeats updates the task's heartbeat row on the source every second
// until ctx ends. Without the privileges it says so once and stops: lag then
// comes from event timestamps only.
func (a *Activities) writeHeartbeats(ctx context.Context, src *sql.DB, task string, state chan<- string) {
	say := func(s string) {
		select {
		case state <- s:
		default:
		}
	}
	for _, q := range []string{"CREATE DATABASE IF NOT EXISTS `sluice`", heartbeatDDL} {
		if _, err := src.ExecContext(ctx, q); err != nil {
			if ctx.Err() == nil {
				say("off: cannot create `sluice`.`heartbeat` on the source (" + err.Error() + "); grant CREATE, INSERT, UPDATE on `sluice`.* or set options.heartbeat: false")
			}
			return
		}
	}
	say("on: `sluice`.`heartbeat` on the source, every second")
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if _, err := src.ExecContext(ctx, "INSERT INTO `sluice`.`heartbeat` (`task`, `ts`) VALUES (?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE `ts` = VALUES(`ts`)", task); err != nil && ctx.Err() == nil {
			say("failing: " + err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sourceClockOffset is the source's clock minus ours (lag compares the source's
// event times with now).
func sourceClockOffset(ctx context.Context, src *sql.DB) time.Duration {
	var ts string
	t0 := time.Now()
	if err := src.QueryRowContext(ctx, "SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f')").Scan(&ts); err != nil {
		return 0
	}
	rtt := time.Since(t0)
	st, err := time.ParseInLocation("2006-01-02 15:04:05.999999", ts, time.UTC)
	if err != nil {
		return 0
	}
	return st.Sub(t0.Add(rtt / 2))
}

// classifyIncremental: replication errors are retried (a new attempt resumes from
// the checkpoint) except those a retry cannot fix.
func classifyIncremental(err error) error {
	if err == nil {
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return classify(err) // the ApplicationError on top
	}
	var mm *binlog.MismatchError
	var ee *etl.EvalError
	var purged *gomysql.MyError
	switch {
	case errors.As(err, &ee):
		return temporal.NewNonRetryableApplicationError(err.Error()+"; fix the expression, or set options.etl.on_error: skip to leave such changes out", ErrETL, nil)
	case errors.Is(err, applier.ErrFenced):
		return temporal.NewNonRetryableApplicationError(err.Error(), "Fenced", nil)
	case errors.Is(err, applier.ErrSuperseded):
		return temporal.NewNonRetryableApplicationError(err.Error(), "Superseded", nil)
	case errors.As(err, &purged) && purged.Code == 1236:
		return temporal.NewNonRetryableApplicationError("the source no longer has the binlog replication needs (purged?): "+err.Error()+"; raise the source's binlog retention (expire_logs_days / binlog_expire_logs_seconds) and start the migration again", ErrIncrementalFailed, nil)
	case errors.As(err, &mm), errors.Is(err, binlog.ErrNoMetadata):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrIncrementalFailed, nil)
	}
	// A lost connection (source or destination), a lock conflict, or a
	// statement the destination refuses (retried for options.retry.other: an
	// operator may fix its cause).
	return classify(err)
}

// reached reports that an applier at applied has applied everything the source
// had committed at target. Binlog checkpoint events move the file offset past
// the last commit: with GTIDs on both, the GTID sets say "all applied"
// (compared as sets: domains in any order).
func reached(flavor string, applied, target binlog.Position) bool {
	if target.GTID != "" && applied.GTID != "" {
		return gtidContains(flavor, applied.GTID, target.GTID)
	}
	return applied.Compare(target) >= 0
}

// gtidContains reports that the GTID set have holds every transaction of want.
func gtidContains(flavor, have, want string) bool {
	h, err1 := gomysql.ParseGTIDSet(flavor, have)
	w, err2 := gomysql.ParseGTIDSet(flavor, want)
	if err1 != nil || err2 != nil {
		return have == want
	}
	return h.Contain(w)
}
