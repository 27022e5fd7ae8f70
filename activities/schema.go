package activities

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/inspect"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/schema"
	"github.com/sluice-dev/sluice/schemahist"
	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/workflows"
)

// resolvedSchema is the selection and the objects read from the source for one
// workflow run. Each apply activity needs it; reading it once per worker and run
// (instead of once per object) keeps a 10,000-table schema linear.
type resolvedSchema struct {
	resolved *inspect.Resolved
	objects  *schema.Objects
	names    ddl.Names
	at       time.Time
}

type schemaCache struct {
	mu sync.Mutex
	m  map[string]*resolvedSchema
}

// cacheTTL bounds how stale a cached selection may be: a retry after a long outage
// reads the source again.
const cacheTTL = 10 * time.Minute

func (c *schemaCache) get(key string) *resolvedSchema {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[key]
	if r != nil && time.Since(r.at) > cacheTTL {
		delete(c.m, key)
		return nil
	}
	return r
}

func (c *schemaCache) put(key string, r *resolvedSchema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*resolvedSchema{}
	}
	for k, v := range c.m {
		if time.Since(v.at) > cacheTTL {
			delete(c.m, k)
		}
	}
	c.m[key] = r
}

// cacheKey is the run and the spec it runs (a spec is immutable within a run, but
// the key costs nothing to make exact).
func cacheKey(ctx context.Context, s spec.Spec) string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return activity.GetInfo(ctx).WorkflowExecution.RunID + fmt.Sprintf("/%x", sum[:8])
}

// open connects to both servers.
func (a *Activities) open(ctx context.Context, s spec.Spec) (*sql.DB, *sql.DB, error) {
	a.registerSecrets(s)
	src, err := dbconn.Open(ctx, "source", s.Source, a.LookupEnv)
	if err != nil {
		return nil, nil, classify(err)
	}
	dst, err := dbconn.Open(ctx, "destination", s.Destination, a.LookupEnv)
	if err != nil {
		src.Close()
		return nil, nil, classify(err)
	}
	return src, dst, nil
}

func (a *Activities) resolveSchema(ctx context.Context, s spec.Spec, src, dst *sql.DB) (*resolvedSchema, error) {
	key := cacheKey(ctx, s)
	if r := a.schemaCache.get(key); r != nil {
		return r, nil
	}
	res, err := inspect.Resolve(ctx, s, src, dst)
	if err != nil {
		return nil, classify(err)
	}
	if fails := failing(res.Plan.Problems); len(fails) > 0 {
		// The precheck refused these already; the source changed since.
		return nil, temporal.NewNonRetryableApplicationError("schema: the selection no longer resolves: "+strings.Join(fails, "; "), workflows.ErrSchemaApplyFailed, nil)
	}
	objs, err := schema.ReadObjects(ctx, src, s, res.Plan, res.Options)
	if err != nil {
		return nil, classify(fmt.Errorf("schema: read source objects: %w", err))
	}
	r := &resolvedSchema{resolved: res, objects: objs, names: objs.Names(res.Plan.Names()), at: time.Now()}
	a.schemaCache.put(key, r)
	return r, nil
}

// CreateTriggers creates, after the data phases, the triggers of the migrated
// tables as the source has them now (read fresh, not from the cached plan),
// in firing order. With a replication task, names follow the tables it renamed
// and the entries they were migrated under.
func (a *Activities) CreateTriggers(ctx context.Context, s spec.Spec, task string) ([]plan.ApplyResult, error) {
	src, dst, err := a.open(ctx, s)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	defer dst.Close()
	res, err := inspect.Resolve(ctx, s, src, dst)
	if err != nil {
		return nil, classify(err)
	}
	objs, err := schema.ReadObjects(ctx, src, s, res.Plan, res.Options)
	if err != nil {
		return nil, classify(fmt.Errorf("schema: read source triggers: %w", err))
	}
	r := &resolvedSchema{resolved: res, objects: objs, names: objs.Names(res.Plan.Names()), at: time.Now()}
	var names ddl.Names = r.names
	if task != "" {
		sel := newSelection(s, r)
		hist, err := schemahist.Open(ctx, dst, task, sel)
		if err != nil {
			return nil, classify(err)
		}
		if err := sel.loadOrigins(ctx, hist); err != nil {
			return nil, classify(err)
		}
		names = sel
	}
	log := a.Log.With(zap.String("workflow", activity.GetInfo(ctx).WorkflowExecution.ID))
	var out []plan.ApplyResult
	for _, tr := range objs.Triggers {
		db, tbl, ok := names.Table(tr.DB, tr.Table)
		if !ok {
			continue
		}
		tr.Dest = plan.Name{DB: db, Table: tbl}
		heartbeat(ctx, tr.Name, true)
		r, err := schema.ApplyTrigger(ctx, src, dst, tr, names)
		if err != nil {
			return out, classify(err)
		}
		log.Info("trigger created", zap.String("object", r.Object), zap.String("action", r.Action))
		out = append(out, plan.ApplyResult{Object: plan.Object{Kind: plan.KindTrigger, Database: tr.DB, Name: tr.Name, DestDatabase: tr.Dest.DB},
			Action: r.Action, Warning: strings.Join(r.Warnings, "; ")})
	}
	// The task's rows of `sluice`.`origins` stay: a retry of this activity
	// (after they were gone) would create triggers with the wrong column names.
	return out, nil
}

// openResolved opens both servers and resolves the selection (cached per run);
// done closes the connections.
func (a *Activities) openResolved(ctx context.Context, s spec.Spec) (src, dst *sql.DB, r *resolvedSchema, done func(), err error) {
	if src, dst, err = a.open(ctx, s); err != nil {
		return nil, nil, nil, nil, err
	}
	done = func() { src.Close(); dst.Close() }
	if r, err = a.resolveSchema(ctx, s, src, dst); err != nil {
		done()
		return nil, nil, nil, nil, err
	}
	return src, dst, r, done, nil
}

func failing(ps []plan.Problem) []string {
	var out []string
	for _, p := range ps {
		if p.Severity == plan.Fail {
			out = append(out, p.Message)
		}
	}
	return out
}

// PlanSchema lists what the schema phase creates, in order, as names only.
func (a *Activities) PlanSchema(ctx context.Context, s spec.Spec) (plan.SchemaPlan, error) {
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return plan.SchemaPlan{}, err
	}
	defer done()
	o := r.objects
	var sp plan.SchemaPlan
	for _, d := range o.Databases {
		sp.Databases = append(sp.Databases, plan.Object{Kind: plan.KindDatabase, Database: d.Source, DestDatabase: d.Dest})
	}
	for _, t := range o.Tables {
		sp.Tables = append(sp.Tables, plan.Object{Kind: plan.KindTable, Database: t.Source.DB, Name: t.Source.Table, DestDatabase: t.Dest.DB, DestName: t.Dest.Table})
	}
	for _, rt := range o.Routines {
		k := plan.KindProcedure
		if rt.Kind == schema.Function {
			k = plan.KindFunction
		}
		sp.Routines = append(sp.Routines, plan.Object{Kind: k, Database: rt.DB, Name: rt.Name, DestDatabase: rt.DestDB, DestName: rt.Name})
	}
	for _, v := range o.Views {
		sp.Views = append(sp.Views, plan.Object{Kind: plan.KindView, Database: v.Source.DB, Name: v.Source.Table, DestDatabase: v.Dest.DB, DestName: v.Dest.Table})
	}
	for _, tr := range o.Triggers {
		sp.Triggers = append(sp.Triggers, plan.Object{Kind: plan.KindTrigger, Database: tr.DB, Name: tr.Name, DestDatabase: tr.Dest.DB, DestName: tr.Name})
	}
	for _, e := range o.Events {
		sp.NotMigrated = append(sp.NotMigrated, "event "+plan.Name{DB: e.DB, Table: e.Name}.String())
	}
	for _, n := range o.Sequences {
		sp.NotMigrated = append(sp.NotMigrated, "sequence "+n.String())
	}
	if s.Options.Accounts {
		accts, err := schema.ListAccounts(ctx, src, dst, s.Source.User, s.Destination.User)
		if err != nil {
			return sp, classify(fmt.Errorf("schema: list accounts: %w", err))
		}
		for _, ac := range accts.Migrate {
			sp.Accounts = append(sp.Accounts, plan.Object{Kind: plan.KindAccount, Name: ac.User, Host: ac.Host})
		}
		for _, sk := range accts.Skipped {
			if sk.Reason == schema.ReasonSystem || sk.Reason == schema.ReasonSluice {
				continue
			}
			sp.NotMigrated = append(sp.NotMigrated, fmt.Sprintf("account '%s'@'%s' (%s)", sk.User, sk.Host, sk.Reason))
		}
	}
	a.Log.Info("schema planned", zap.String("workflow", activity.GetInfo(ctx).WorkflowExecution.ID),
		zap.Int("databases", len(sp.Databases)), zap.Int("tables", len(sp.Tables)), zap.Int("views", len(sp.Views)),
		zap.Int("routines", len(sp.Routines)), zap.Int("triggers", len(sp.Triggers)), zap.Int("accounts", len(sp.Accounts)))
	return sp, nil
}

// ApplySchemaObjects creates objects on the destination, one after the other, and
// heartbeats the one it is at. Applying is idempotent, so a retried attempt simply
// starts again.
func (a *Activities) ApplySchemaObjects(ctx context.Context, s spec.Spec, objs []plan.Object) ([]plan.ApplyResult, error) {
	src, dst, r, done, err := a.openResolved(ctx, s)
	if err != nil {
		return nil, err
	}
	defer done()
	log := a.Log.With(zap.String("workflow", activity.GetInfo(ctx).WorkflowExecution.ID))
	var out []plan.ApplyResult
	for _, o := range objs {
		heartbeat(ctx, o.String(), true)
		res, err := a.applyOne(ctx, s, src, dst, r, o)
		if err != nil {
			return out, classify(err)
		}
		log.Info("schema object applied", zap.String("object", res.Object), zap.String("action", res.Action))
		out = append(out, plan.ApplyResult{Object: o, Action: res.Action, Warning: strings.Join(res.Warnings, "; ")})
	}
	return out, nil
}

func (a *Activities) applyOne(ctx context.Context, s spec.Spec, src, dst *sql.DB, r *resolvedSchema, o plan.Object) (schema.Result, error) {
	objs := r.objects
	notFound := func() (schema.Result, error) {
		return schema.Result{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("apply %s: it is no longer on the source (dropped or renamed since the schema was planned)", o), workflows.ErrSchemaApplyFailed, nil)
	}
	switch o.Kind {
	case plan.KindDatabase:
		for _, d := range objs.Databases {
			if d.Source == o.Database {
				return schema.ApplyDatabase(ctx, dst, d)
			}
		}
	case plan.KindTable:
		for _, t := range objs.Tables {
			if t.Source.DB == o.Database && t.Source.Table == o.Name {
				return schema.ApplyTable(ctx, src, dst, t, r.names, schema.TableOptions{Conflicts: s.Options.Conflicts, DeferIndexes: deferIndexes(s)})
			}
		}
	case plan.KindView:
		for _, v := range objs.Views {
			if v.Source.DB == o.Database && v.Source.Table == o.Name {
				return schema.ApplyView(ctx, src, dst, v, r.names)
			}
		}
	case plan.KindProcedure, plan.KindFunction:
		for _, rt := range objs.Routines {
			if rt.DB == o.Database && rt.Name == o.Name && strings.EqualFold(rt.Kind, string(o.Kind)) {
				return schema.ApplyRoutine(ctx, src, dst, rt, r.names)
			}
		}
	case plan.KindTrigger:
		for _, tr := range objs.Triggers {
			if tr.DB == o.Database && tr.Name == o.Name {
				return schema.ApplyTrigger(ctx, src, dst, tr, r.names)
			}
		}
	case plan.KindAccount:
		return schema.ApplyAccount(ctx, src, dst, schema.Account{User: o.Name, Host: o.Host}, r.names)
	}
	return notFound()
}

// classify turns an error into what the retry windows need (retry.go):
// connection trouble ("Connection", retry.connection), a deadlock or lock wait
// ("LockConflict", no window), a cancellation or a worker stopping (another
// attempt resumes from the heartbeat), and everything else ("Other",
// retry.other: a statement the destination refuses may succeed once an
// operator fixed the cause). Errors sluice knows a retry cannot fix are
// non-retryable ApplicationErrors already, kept as they are.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		if err == error(ae) {
			return err
		}
		// Wrapped ("full: t chunk 3: …"): Temporal reads only the top-level
		// error's type and retryability, so the ApplicationError goes on top,
		// with the whole message.
		msg := strings.Replace(err.Error(), ae.Error(), ae.Message(), 1)
		return temporal.NewApplicationErrorWithOptions(msg, ae.Type(), temporal.ApplicationErrorOptions{NonRetryable: ae.NonRetryable(), Cause: errors.Unwrap(ae)})
	}
	switch {
	case dbconn.IsConnectionError(err):
		return temporal.NewApplicationErrorWithCause(err.Error(), "Connection", err)
	case dbconn.IsLockConflict(err):
		return temporal.NewApplicationErrorWithCause(err.Error(), "LockConflict", err)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return temporal.NewApplicationErrorWithCause(err.Error(), "Canceled", err)
	}
	return temporal.NewApplicationError(err.Error(), ErrOther)
}

// ErrOther is the ApplicationError type of a failure retried for options.retry.other.
const ErrOther = "Other"

// deferIndexes: tables the schema phase creates for a full copy get their plain
// secondary indexes after their rows (options.full.defer_indexes). Under
// conflicts: ignore the tables may already exist with their own indexes.
func deferIndexes(s spec.Spec) bool {
	return s.Has(spec.TypeFull) && s.Options.Conflicts != schema.ConflictsIgnore && s.Options.Full.Defer()
}
