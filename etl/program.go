package etl

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/sluice-dev/sluice/rowcodec"
)

// Op is the change an expression is evaluated for (the `op` variable).
type Op string

const (
	OpInsert Op = "insert"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// CostLimit bounds one evaluation (cel-go's runtime cost units: roughly one per
// operation, per element of a list or string scanned): a user expression cannot
// hang or starve the worker. Typical filters cost under 100.
const CostLimit = 1_000_000

// Spec is what a table entry asks for.
type Spec struct {
	Filter    string
	Transform map[string]string // source column → expression
}

// Empty reports that there is nothing to evaluate.
func (s Spec) Empty() bool { return s.Filter == "" && len(s.Transform) == 0 }

// Program is a table's compiled filter and transforms. It is safe for
// concurrent use; compile it once per table definition.
type Program struct {
	table      Table
	cols       []colInfo
	filter     cel.Program
	filterSrc  string
	filterAST  *cel.Ast
	transforms []transform
	actPool    sync.Pool
}

type transform struct {
	col  int
	src  string
	prog cel.Program
}

// Table returns the table the program was compiled for.
func (p *Program) Table() Table { return p.table }

// HasFilter reports whether rows are filtered.
func (p *Program) HasFilter() bool { return p.filter != nil }

// HasTransforms reports whether values are computed.
func (p *Program) HasTransforms() bool { return len(p.transforms) > 0 }

// Compile type-checks the entry's expressions against the table's columns. The
// error, when not nil, is a CheckErrors listing every problem. Programs are
// kept per table definition and expressions: the copy's chunks and attempts of
// one table share one (a program is immutable and safe for concurrent use).
func Compile(t Table, s Spec) (*Program, error) {
	key, err := cacheKey(t, s)
	if err == nil {
		programsMu.Lock()
		p, ok := programs[key]
		programsMu.Unlock()
		if ok {
			return p, nil
		}
	}
	p, cerr := compile(t, s)
	if cerr == nil && err == nil {
		programsMu.Lock()
		if len(programs) >= maxPrograms {
			clear(programs)
		}
		programs[key] = p
		programsMu.Unlock()
	}
	return p, cerr
}

var (
	programsMu sync.Mutex
	programs   = map[string]*Program{}
)

// maxPrograms bounds the cache (a worker serves many tables of many tasks).
const maxPrograms = 512

func cacheKey(t Table, s Spec) (string, error) {
	b, err := json.Marshal(struct {
		T Table
		S Spec
	}{t, s})
	return string(b), err
}

func compile(t Table, s Spec) (*Program, error) {
	p := &Program{table: t}
	for _, c := range t.Columns {
		p.cols = append(p.cols, newColInfo(c))
	}
	env, err := p.env()
	if err != nil {
		return nil, err
	}
	var errs CheckErrors
	if s.Filter != "" {
		prog, e := compileExpr(env, s.Filter, cel.BoolType, "filter")
		if e != nil {
			e.Where = "filter"
			errs = append(errs, e)
		} else {
			p.filter, p.filterSrc, p.filterAST = prog, s.Filter, prog.ast
		}
	}
	names := make([]string, 0, len(s.Transform))
	for k := range s.Transform {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		expr := s.Transform[name]
		where := "transform." + name
		i := p.column(name)
		switch {
		case i < 0:
			errs = append(errs, &ExprError{Where: where, Expr: expr, Line: 1, Column: 1,
				Msg:  fmt.Sprintf("%s has no column %q (generated columns are computed by the destination and cannot be transformed)", t, name),
				Hint: didYouMean(name, p.columnNames())})
			continue
		case p.cols[i].Key:
			errs = append(errs, &ExprError{Where: where, Expr: expr, Line: 1, Column: 1,
				Msg: fmt.Sprintf("%s is part of the key rows are identified by: a transform cannot change it (replication finds rows on the destination by it)", name)})
			continue
		}
		prog, e := compileExpr(env, expr, nil, where)
		if e == nil {
			if out := prog.outType; !assignable(&p.cols[i], out) {
				e = &ExprError{Expr: expr, Line: 1, Column: 1,
					Msg:  fmt.Sprintf("the expression yields %s, and column %s is %s (%s)", typeName(out), name, p.cols[i].ColumnType, typeName(p.cols[i].fieldType())),
					Hint: conversionHint(&p.cols[i], out)}
			}
		}
		if e != nil {
			e.Where = where
			errs = append(errs, e)
			continue
		}
		p.transforms = append(p.transforms, transform{col: i, src: expr, prog: prog.Program})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func (p *Program) column(name string) int {
	for i, c := range p.cols {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

func (p *Program) columnNames() []string {
	out := make([]string, len(p.cols))
	for i, c := range p.cols {
		out[i] = c.Name
	}
	return out
}

// --- the environment ---

const (
	rowTypeName = "sluice.Row"
	rawTypeName = "sluice.Raw"
)

var (
	rowType = types.NewObjectType(rowTypeName)
	rawType = types.NewObjectType(rawTypeName)
)

// provider adds the row types to cel-go's registry.
type provider struct {
	types.Provider
	p *Program
}

func (pr *provider) FindStructType(name string) (*types.Type, bool) {
	switch name {
	case rowTypeName:
		return types.NewTypeTypeWithParam(rowType), true
	case rawTypeName:
		return types.NewTypeTypeWithParam(rawType), true
	}
	return pr.Provider.FindStructType(name)
}

func (pr *provider) FindStructFieldNames(name string) ([]string, bool) {
	if name == rowTypeName || name == rawTypeName {
		return pr.p.columnNames(), true
	}
	return pr.Provider.FindStructFieldNames(name)
}

func (pr *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if name != rowTypeName && name != rawTypeName {
		return pr.Provider.FindStructFieldType(name, field)
	}
	// Column names compare without case, as on the server; the exact name wins.
	i := slices.IndexFunc(pr.p.cols, func(c colInfo) bool { return c.Name == field })
	if i < 0 {
		i = pr.p.column(field)
	}
	if i < 0 {
		return nil, false
	}
	ci := &pr.p.cols[i]
	ft := &types.FieldType{IsSet: func(any) bool { return true }}
	if name == rowTypeName {
		ft.Type = ci.fieldType()
		ft.GetFrom = func(target any) (any, error) { return target.(*image).get(i), nil }
	} else {
		ft.Type = ci.rawType()
		ft.GetFrom = func(target any) (any, error) { return target.(*image).getRaw(i), nil }
	}
	return ft, true
}

func (pr *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if name == rowTypeName || name == rawTypeName {
		return types.NewErr("rows cannot be constructed")
	}
	return pr.Provider.NewValue(name, fields)
}

// baseEnv holds the language: libraries and sluice's functions (funcs.go).
var baseEnv = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(libraryOptions()...)
})

func (p *Program) env() (*cel.Env, error) {
	base, err := baseEnv()
	if err != nil {
		return nil, fmt.Errorf("etl: %w", err)
	}
	env, err := base.Extend(
		cel.CustomTypeProvider(&provider{Provider: base.CELTypeProvider(), p: p}),
		cel.Variable("row", rowType),
		cel.Variable("old", rowType),
		cel.Variable("raw", rawType),
		cel.Variable("op", cel.StringType),
		cel.Variable("db", cel.StringType),
		cel.Variable("table", cel.StringType),
	)
	if err != nil {
		return nil, fmt.Errorf("etl: %w", err)
	}
	return env, nil
}

// sizer bounds the sizes of row fields for cost estimation: a string or bytes
// column holds at most its declared length, a SET its members.
type sizer struct{ env *cel.Env }

func (s sizer) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}

func (s sizer) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	path := n.Path()
	if len(path) != 2 || (path[0] != "row" && path[0] != "old" && path[0] != "raw") {
		return nil
	}
	pr, ok := s.env.CELTypeProvider().(*provider)
	if !ok {
		return nil
	}
	i := pr.p.column(path[1])
	if i < 0 {
		return nil
	}
	ci := &pr.p.cols[i]
	var max uint64
	switch {
	case ci.kind == kSet:
		max = uint64(len(ci.members))
	case ci.kind == kTimestamp || ci.kind == kDuration || ci.kind == kDecimal:
		max = 70 // their text, for raw
	case ci.MaxLength > 0:
		max = uint64(ci.MaxLength) * 4 // characters, up to 4 bytes each
	default:
		return nil
	}
	return &cost.SizeEstimate{Min: 0, Max: max}
}

type compiled struct {
	cel.Program
	outType *cel.Type
	ast     *cel.Ast
}

// compileExpr parses, checks and plans one expression; want (if set) is the
// type it must have.
func compileExpr(env *cel.Env, expr string, want *cel.Type, what string) (*compiled, *ExprError) {
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, issueError(expr, iss, env)
	}
	if want != nil && !want.IsExactType(ast.OutputType()) && ast.OutputType().Kind() != types.DynKind {
		return nil, &ExprError{Expr: expr, Line: 1, Column: 1,
			Msg: fmt.Sprintf("a %s must be a bool expression; this one yields %s", what, typeName(ast.OutputType()))}
	}
	// Cost: an expression whose worst case (with the columns' declared sizes)
	// stays under the limit needs no tracking at run time; the others are
	// tracked and stopped at the limit.
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if est, err := env.EstimateCost(ast, sizer{env: env}); err != nil || est.Max > CostLimit {
		opts = append(opts, cel.CostLimit(CostLimit))
	}
	prog, err := env.Program(ast, opts...)
	if err != nil {
		return nil, &ExprError{Expr: expr, Line: 1, Column: 1, Msg: err.Error()}
	}
	return &compiled{Program: prog, outType: ast.OutputType(), ast: ast}, nil
}

// --- evaluation ---

// image is a row as CEL sees it (`row`, `old`, `raw`): values converted when
// first read, once per evaluation.
type image struct {
	p     *Program
	vals  rowcodec.Row
	cache []ref.Val
	raws  []ref.Val
	typ   *types.Type
}

func (im *image) get(i int) ref.Val {
	if v := im.cache[i]; v != nil {
		return v
	}
	ci := &im.p.cols[i]
	v := im.value(i, ci.toCEL)
	if types.IsError(v) && strings.Contains(fmt.Sprint(v), "zero date") {
		zero := "0000-00-00"
		if ci.DataType != "date" {
			zero += " 00:00:00"
			if ci.scale > 0 {
				zero += "." + strings.Repeat("0", ci.scale)
			}
		}
		v = types.NewErr("%v: "+zeroDateHelp, v, ci.Name, ci.Name, zero)
	}
	im.cache[i] = v
	return v
}

func (im *image) getRaw(i int) ref.Val {
	if v := im.raws[i]; v != nil {
		return v
	}
	v := im.value(i, im.p.cols[i].rawCEL)
	im.raws[i] = v
	return v
}

// value converts column i with conv; NULL is none for a NULL-able column.
func (im *image) value(i int, conv func(any) ref.Val) ref.Val {
	ci := &im.p.cols[i]
	switch x := im.vals[i]; {
	case x == nil && ci.Nullable:
		return types.OptionalNone
	case x == nil:
		return types.NewErr("column %s is NULL", ci.Name)
	default:
		v := conv(x)
		if ci.Nullable && !types.IsError(v) {
			v = types.OptionalOf(v)
		}
		return v
	}
}

func (im *image) ConvertToNative(reflect.Type) (any, error) {
	return nil, fmt.Errorf("a row has no native form")
}

func (im *image) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return im.typ
	}
	return types.NewErr("a row cannot be converted to %s", t.TypeName())
}

func (im *image) Equal(o ref.Val) ref.Val {
	x, ok := o.(*image)
	return types.Bool(ok && x == im)
}

func (im *image) Type() ref.Type { return im.typ }
func (im *image) Value() any     { return im }

func (im *image) reset(vals rowcodec.Row) {
	im.vals = vals
	clear(im.cache)
	clear(im.raws)
}

// activation is one evaluation's variables; pooled per program.
type activation struct {
	row, old, raw image
	hasOld        bool
	op            types.String
	db, table     types.String
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "row":
		return &a.row, true
	case "old":
		if a.hasOld {
			return &a.old, true
		}
		return &a.row, true
	case "raw":
		return &a.raw, true
	case "op":
		return a.op, true
	case "db":
		return a.db, true
	case "table":
		return a.table, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

func (p *Program) activation(row, old rowcodec.Row, op Op) *activation {
	a, _ := p.actPool.Get().(*activation)
	if a == nil {
		n := len(p.cols)
		a = &activation{db: types.String(p.table.Schema), table: types.String(p.table.Name)}
		a.row = image{p: p, cache: make([]ref.Val, n), raws: make([]ref.Val, n), typ: rowType}
		a.old = image{p: p, cache: make([]ref.Val, n), raws: make([]ref.Val, n), typ: rowType}
		a.raw = image{p: p, cache: make([]ref.Val, n), raws: make([]ref.Val, n), typ: rawType}
	}
	a.row.reset(row)
	a.raw.reset(row)
	a.hasOld = old != nil
	if old != nil {
		a.old.reset(old)
	}
	a.op = types.String(op)
	return a
}

func (p *Program) release(a *activation) {
	a.row.vals, a.old.vals, a.raw.vals = nil, nil, nil
	p.actPool.Put(a)
}

// EvalError is a failed evaluation: which table, row key, expression.
type EvalError struct {
	Table Table
	Key   string // the row's key values, as text
	Where string // filter, transform.<column>
	Expr  string
	Err   error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("%s row %s: %s %q: %v", e.Table, e.Key, e.Where, e.Expr, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

func (p *Program) evalErr(row rowcodec.Row, where, expr string, err error) *EvalError {
	return &EvalError{Table: p.table, Key: p.keyText(row), Where: where, Expr: expr, Err: err}
}

// keyText renders the key columns' values of a row for messages (a key is an
// identifier, not secret data; other columns are never printed).
func (p *Program) keyText(row rowcodec.Row) string {
	var parts []string
	for i, c := range p.cols {
		if !c.Key || i >= len(row) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%s", c.Name, valueText(row[i])))
	}
	if len(parts) == 0 {
		return "(no key)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

// Keep evaluates the filter for row (old: the before-image of an update, nil
// otherwise). Without a filter every row is kept.
func (p *Program) Keep(row, old rowcodec.Row, op Op) (bool, error) {
	if p.filter == nil {
		return true, nil
	}
	a := p.activation(row, old, op)
	defer p.release(a)
	out, _, err := p.filter.Eval(a)
	if err != nil {
		return false, p.evalErr(row, "filter", p.filterSrc, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, p.evalErr(row, "filter", p.filterSrc, fmt.Errorf("yields %s, not a bool", out.Type().TypeName()))
	}
	return bool(b), nil
}

// Transform returns the row with the transformed columns computed (a new slice:
// row itself is not modified). Every expression sees the source row.
func (p *Program) Transform(row, old rowcodec.Row, op Op) (rowcodec.Row, error) {
	if len(p.transforms) == 0 {
		return row, nil
	}
	a := p.activation(row, old, op)
	defer p.release(a)
	out := slices.Clone(row)
	for _, t := range p.transforms {
		v, _, err := t.prog.Eval(a)
		if err != nil {
			return nil, p.evalErr(row, "transform."+p.cols[t.col].Name, t.src, err)
		}
		w, err := p.cols[t.col].fromCEL(v)
		if err != nil {
			return nil, p.evalErr(row, "transform."+p.cols[t.col].Name, t.src, err)
		}
		out[t.col] = w
	}
	return out, nil
}

// Apply is the full copy's step: keep and transform, or drop (nil, nil).
func (p *Program) Apply(row rowcodec.Row) (rowcodec.Row, error) {
	keep, err := p.Keep(row, nil, OpInsert)
	if err != nil || !keep {
		return nil, err
	}
	return p.Transform(row, nil, OpInsert)
}
