package precheck

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

func checkObjectsExist(f *Facts) Item {
	if f.Plan == nil {
		return fail(fmt.Sprintf("cannot read the source catalog: %s", f.PlanError),
			"grant the source account SELECT on the selected databases so information_schema shows their tables")
	}
	var fails, warns []string
	for _, p := range f.Plan.ProblemsOf(plan.MissingDatabase, plan.MissingTable, plan.GlobNoMatch, plan.NamedExcluded, plan.SelectedTwice) {
		if p.Severity == plan.Fail {
			fails = append(fails, p.Message)
		} else {
			warns = append(warns, p.Message)
		}
	}
	const remedy = "fix objects in the workflow file: names are matched exactly (case-sensitively unless the source has lower_case_table_names=1 or 2), tables entries may be globs; run sluice validate to see the resolved selection"
	switch {
	case len(fails) > 0:
		return fail(capList(append(fails, warns...)), remedy)
	case len(f.Plan.Tables) == 0:
		return fail("the selection matches no table on the source", remedy)
	case len(warns) > 0:
		return warn(capList(warns), remedy)
	}
	return pass(fmt.Sprintf("%s selected in %s, all present on the source",
		plural(len(f.Plan.Tables), "table", "tables"), plural(len(f.Plan.SourceDatabases()), "database", "databases")))
}

func checkPrimaryKeys(f *Facts) Item {
	var without []string
	for _, t := range selectedTables(f) {
		if !t.PrimaryKey && !t.NotNullUnique {
			without = append(without, plan.Name{DB: t.DB, Table: t.Name}.String())
		}
	}
	if len(without) == 0 {
		return pass("every selected table has a primary key or a unique key on NOT NULL columns")
	}
	return warn(fmt.Sprintf("%s without a primary key or a unique key on NOT NULL columns: %s; without one sluice cannot tell rows apart, so a retried copy chunk or a replayed change may leave duplicate rows on the destination",
		plural(len(without), "table", "tables"), capList(without)),
		"add a primary key on the source (ALTER TABLE <table> ADD PRIMARY KEY (<columns>)), or accept possible duplicates by adding "+IDPrimaryKeys+" to options.ignore_warnings")
}

func checkEngines(f *Facts) Item {
	var other []string
	for _, t := range selectedTables(f) {
		if !strings.EqualFold(t.Engine, "InnoDB") {
			other = append(other, fmt.Sprintf("%s (%s)", plan.Name{DB: t.DB, Table: t.Name}, orNone(t.Engine)))
		}
	}
	if len(other) == 0 {
		return pass("every selected table uses InnoDB")
	}
	return warn(fmt.Sprintf("%s not on InnoDB: %s; without transactions a consistent copy cannot be taken while they change, and their changes cannot be replayed atomically",
		plural(len(other), "table is", "tables are"), capList(other)),
		"convert them on the source (ALTER TABLE <table> ENGINE=InnoDB), exclude them, or stop writes to them during the copy and add "+IDEngines+" to options.ignore_warnings")
}

func cascades(rule string) bool {
	switch strings.ToUpper(rule) {
	case "CASCADE", "SET NULL", "SET DEFAULT":
		return true
	}
	return false
}

func checkForeignKeyCascades(f *Facts) Item {
	if f.Source.Catalog == nil {
		return warn("cannot read the source's foreign keys: "+f.Source.CatalogError, "")
	}
	sel := selectedSet(f.Plan)
	var handled, broken []string
	for _, fk := range f.Source.Catalog.ForeignKeys {
		if _, ok := sel[plan.Name{DB: fk.DB, Table: fk.Table}]; !ok {
			continue
		}
		var acts []string
		if cascades(fk.OnDelete) {
			acts = append(acts, "ON DELETE "+strings.ToUpper(fk.OnDelete))
		}
		if cascades(fk.OnUpdate) {
			acts = append(acts, "ON UPDATE "+strings.ToUpper(fk.OnUpdate))
		}
		if len(acts) == 0 {
			continue
		}
		desc := fmt.Sprintf("%s %s -> %s %s", plan.Name{DB: fk.DB, Table: fk.Table}, plan.QuoteIdent(fk.Name),
			plan.Name{DB: fk.RefDB, Table: fk.RefTable}, strings.Join(acts, " "))
		if _, ok := sel[plan.Name{DB: fk.RefDB, Table: fk.RefTable}]; ok {
			handled = append(handled, desc)
		} else {
			broken = append(broken, desc)
		}
	}
	if len(broken) > 0 {
		return warn(fmt.Sprintf("%s of selected tables cascade from a parent table that is not migrated: %s; the source changes these child rows without logging them, and without the parent sluice cannot apply the same change on the destination",
			plural(len(broken), "foreign key", "foreign keys"), capList(broken)),
			"migrate the parent tables too, or accept by adding "+IDForeignKeyCascades+" to options.ignore_warnings")
	}
	if len(handled) == 0 {
		return pass("no selected table has a foreign key with a cascading action")
	}
	return pass(fmt.Sprintf("%s with cascading actions between migrated tables: %s; the source does not log the rows its cascades change, so sluice applies the same actions on the destination",
		plural(len(handled), "foreign key", "foreign keys"), capList(handled)))
}

// checkConflicts looks at the destination tables the migration writes:
//   - with schema, sluice creates them, so one that exists is a conflict (a failure
//     with options.conflicts=precheck, merged into with conflicts=ignore);
//   - without schema they must exist already, and with full and conflicts=precheck
//     they must be empty.
func checkConflicts(f *Facts) Item {
	d := f.Destination
	if d.Catalog == nil {
		return warn(fmt.Sprintf("cannot read the destination catalog (%s): conflicts are not checked", d.CatalogError),
			"grant the destination account SELECT on the target databases")
	}
	exists := map[plan.Name]bool{}
	fold := d.LowerCaseTableNames() != 0
	norm := func(n plan.Name) plan.Name {
		if fold {
			return plan.Name{DB: strings.ToLower(n.DB), Table: strings.ToLower(n.Table)}
		}
		return n
	}
	for _, t := range d.Catalog.Tables {
		exists[norm(plan.Name{DB: t.DB, Table: t.Name})] = true
	}
	var present, missing, nonEmpty []string
	var presentT []plan.Table
	for _, t := range f.Plan.Tables {
		if exists[norm(t.Dest)] {
			present = append(present, t.Dest.String())
			presentT = append(presentT, t)
			if d.Catalog.NonEmpty[t.Dest] {
				nonEmpty = append(nonEmpty, t.Dest.String())
			}
		} else {
			missing = append(missing, t.Dest.String())
		}
	}
	ignore := f.Spec.Options.Conflicts == "ignore"
	if f.Spec.Has(spec.TypeSchema) {
		if kinds := kindMismatches(f); len(kinds) > 0 {
			return fail(fmt.Sprintf("%s on the destination as the other kind: %s", plural(len(kinds), "target name exists", "target names exist"), capList(kinds)),
				"rename the targets with to:, or drop or rename the destination objects (options.conflicts: ignore keeps a table and replaces a view, but never turns one into the other)")
		}
		others := existingObjects(f)
		if len(others) > 0 && !ignore {
			return fail(fmt.Sprintf("%s already on the destination: %s", plural(len(present)+len(others), "object exists", "objects exist"), capList(append(present, others...))),
				"drop or rename them on the destination, rename the targets with to:, or set options.conflicts: ignore (tables are kept; views, routines and triggers are replaced)")
		}
		switch {
		case len(present) == 0:
			return pass("none of the destination tables exists yet")
		case ignore:
			if cols := missingColumns(f, presentT); len(cols) > 0 {
				return fail(fmt.Sprintf("options.conflicts=ignore keeps the existing destination tables, but %s: %s",
					plural(len(cols), "migrated column is missing there", "migrated columns are missing there"), capList(cols)),
					"add the columns to the destination tables (ALTER TABLE ... ADD COLUMN), rename them with columns:, leave them out with exclude_columns, or drop the destination tables")
			}
			return pass(fmt.Sprintf("%s already on the destination (%s): with options.conflicts=ignore their definition is kept and rows are merged into them",
				plural(len(present), "table exists", "tables exist"), capList(present)))
		}
		return fail(fmt.Sprintf("%s already on the destination: %s", plural(len(present), "table exists", "tables exist"), capList(present)),
			"drop or rename them on the destination, rename the targets with to:, or set options.conflicts: ignore to keep them and merge rows into them")
	}
	if len(missing) > 0 {
		return fail(fmt.Sprintf("%s not exist on the destination and schema is not among types, so nothing creates them: %s",
			plural(len(missing), "table does", "tables do"), capList(missing)),
			"add schema to types, or create the tables on the destination first")
	}
	if cols := missingColumns(f, presentT); len(cols) > 0 {
		return fail(fmt.Sprintf("%s on the destination tables: %s", plural(len(cols), "a migrated column is missing", "migrated columns are missing"), capList(cols)),
			"add the columns to the destination tables (ALTER TABLE ... ADD COLUMN), rename them with columns:, or leave them out with exclude_columns")
	}
	if f.Spec.Has(spec.TypeFull) && !ignore && len(nonEmpty) > 0 {
		return fail(fmt.Sprintf("%s on the destination already %s rows and a full copy would mix with them: %s",
			plural(len(nonEmpty), "table", "tables"), map[bool]string{true: "holds", false: "hold"}[len(nonEmpty) == 1], capList(nonEmpty)),
			"empty them (TRUNCATE TABLE), or set options.conflicts: ignore to merge (rows with the same key are overwritten)")
	}
	return pass(fmt.Sprintf("all %s exist on the destination", plural(len(present), "target table", "target tables")))
}

func checkDestinationNames(f *Facts) Item {
	var bad []string
	seenDB := map[string]bool{}
	for _, t := range f.Plan.Tables {
		if !seenDB[t.Dest.DB] {
			seenDB[t.Dest.DB] = true
			if why := plan.CheckIdentifier(t.Dest.DB); why != "" {
				bad = append(bad, fmt.Sprintf("database name %s %s", plan.QuoteIdent(t.Dest.DB), why))
			}
		}
		if why := plan.CheckIdentifier(t.Dest.Table); why != "" {
			bad = append(bad, fmt.Sprintf("%s (from %s) %s", t.Dest, t.Source, why))
		}
	}
	for _, p := range f.Plan.ProblemsOf(plan.NameCollision) {
		bad = append(bad, p.Message)
	}
	if len(bad) > 0 {
		return fail(capList(bad), "rename the targets with to: (database or table), or change options.case")
	}
	return pass(fmt.Sprintf("the destination names of the %s and their databases are valid and distinct (options.case: %s)", plural(len(f.Plan.Tables), "selected table", "selected tables"), caseName(f)))
}

func caseName(f *Facts) string {
	if f.Spec.Options.Case == "" {
		return plan.CaseDefault
	}
	return f.Spec.Options.Case
}

// freeSpaceHeadroom: warn when the copy would leave less than this share of the
// destination disk free (temporary files, binlogs and index builds need room too).
const freeSpaceHeadroom = 0.10

func checkFreeSpace(f *Facts) Item {
	var need int64
	for _, t := range selectedTables(f) {
		need += t.DataLength + t.IndexLength
	}
	d := f.Destination
	if d.DisksError != "" || len(d.Disks) == 0 {
		why := d.DisksError
		if why == "" {
			why = "the server reports no disks"
		}
		return pass(fmt.Sprintf("cannot estimate free space on the destination (%s); the selected tables take %s on the source", why, humanBytes(need)))
	}
	disk, ok := diskOf(d.Disks, d.Datadir)
	if !ok {
		return pass(fmt.Sprintf("cannot estimate free space on the destination: no disk in information_schema.DISKS holds its datadir %s; the selected tables take %s on the source", d.Datadir, humanBytes(need)))
	}
	room := disk.Available - int64(float64(disk.Total)*freeSpaceHeadroom)
	if need > room {
		return warn(fmt.Sprintf("the selected tables take %s (data and indexes) on the source, but the destination's datadir %s is on %s with %s free of %s (keeping %d%% headroom)",
			humanBytes(need), d.Datadir, disk.Path, humanBytes(disk.Available), humanBytes(disk.Total), int(freeSpaceHeadroom*100)),
			"free or add space on the destination, or select fewer tables")
	}
	return pass(fmt.Sprintf("the selected tables take %s on the source; the destination has %s free on %s", humanBytes(need), humanBytes(disk.Available), disk.Path))
}

// diskOf finds the mount holding dir: the longest Path that is dir or a parent of it.
func diskOf(disks []Disk, dir string) (Disk, bool) {
	var best Disk
	found := false
	for _, d := range disks {
		p := strings.TrimSuffix(d.Path, "/")
		if dir == d.Path || dir == p || strings.HasPrefix(dir, p+"/") {
			if !found || len(d.Path) > len(best.Path) {
				best, found = d, true
			}
		}
	}
	return best, found
}

// pt-online-schema-change's table names are fixed: _<table>_new (the shadow table)
// and _<table>_old (the original, renamed away). gh-ost's come from
// options.gh_ost, whose defaults are gh-ost's own _<table>_gho, _<table>_ghc and
// _<table>_del (or _<table>_<timestamp>_del).
var ptOSCLeftover = regexp.MustCompile(`^_.+_(new|old)$`)

func checkOnlineDDLLeftovers(f *Facts) Item {
	if f.Source.Catalog == nil {
		return warn("cannot read the source catalog: "+f.Source.CatalogError, "")
	}
	// Facts built by hand may lack the defaults (gh-ost's own names); an empty
	// pattern would match every table.
	resolved := f.Spec
	resolved.ApplyDefaults()
	g := resolved.Options.GhOst
	kinds := []struct {
		what  string
		field string
		expr  string
	}{
		{"gh-ost shadow table", "options.gh_ost.shadow_table", g.ShadowTable},
		{"gh-ost changelog or old table", "options.gh_ost.trash_table", g.TrashTable},
	}
	var res []*regexp.Regexp
	for _, k := range kinds {
		re, err := regexp.Compile(k.expr)
		if err != nil {
			// The workflow file was validated; this is a hand-built spec.
			return warn(fmt.Sprintf("%s %q is not a valid regular expression (%v), so leftover tables are not looked for", k.field, k.expr, err),
				"fix "+k.field+" in the workflow file")
		}
		res = append(res, re)
	}
	var found, names []string
	for _, t := range f.Source.Catalog.Tables {
		if !slices.Contains(f.Plan.SourceDatabases(), t.DB) {
			continue
		}
		what := ""
		switch {
		case res[0].MatchString(t.Name):
			what = kinds[0].what
		case res[1].MatchString(t.Name):
			what = kinds[1].what
		case ptOSCLeftover.MatchString(t.Name):
			what = "pt-online-schema-change table"
		default:
			continue
		}
		found = append(found, fmt.Sprintf("%s (%s)", plan.Name{DB: t.DB, Table: t.Name}, what))
		if !slices.Contains(names, t.Name) {
			names = append(names, t.Name)
		}
	}
	if len(found) == 0 {
		return pass(fmt.Sprintf("no gh-ost or pt-online-schema-change leftover tables in the selected databases (gh-ost names: %s, %s)", g.ShadowTable, g.TrashTable))
	}
	slices.Sort(found)
	slices.Sort(names)
	var quoted []string
	for _, n := range names {
		quoted = append(quoted, strconv.Quote(n))
	}
	return warn(fmt.Sprintf("%s that gh-ost or pt-online-schema-change left behind (or that one is creating right now): %s",
		plural(len(found), "table looks like a table", "tables look like tables"), capList(found)),
		"if no schema change is running, drop them on the source (DROP TABLE ...) or leave them out with exclude_tables: ["+capList(quoted)+"]")
}

// pt-online-schema-change names its triggers pt_osc_<db>_<table>_{ins,upd,del}.
var ptOSCTrigger = regexp.MustCompile(`(?i)^pt_osc_`)

func checkPTOSCTriggers(f *Facts) Item {
	if f.Source.Catalog == nil {
		return warn("cannot read the source catalog: "+f.Source.CatalogError, "")
	}
	var found []string
	for _, tr := range f.Source.Catalog.Triggers {
		if !slices.Contains(f.Plan.SourceDatabases(), tr.DB) || !ptOSCTrigger.MatchString(tr.Name) {
			continue
		}
		found = append(found, fmt.Sprintf("%s on %s", plan.Name{DB: tr.DB, Table: tr.Name}, plan.Name{DB: tr.DB, Table: tr.Table}))
	}
	if len(found) == 0 {
		return pass("no pt-online-schema-change triggers in the selected databases")
	}
	return fail(fmt.Sprintf("pt-online-schema-change is running or crashed: %s present (%s); migrating while it copies through triggers is not supported",
		plural(len(found), "trigger is", "triggers are"), capList(found)),
		"let pt-online-schema-change finish; if it died, drop its triggers and its _<table>_new table on the source (DROP TRIGGER `db`.`pt_osc_...`)")
}

// checkExpressions reports the filters and transforms that do not type-check
// against the source tables: nothing is copied until they do.
func checkExpressions(f *Facts) Item {
	e := f.ETL
	if len(e.Problems) == 0 {
		return pass(fmt.Sprintf("%s on %s type-check against the source's columns",
			plural(e.Expressions, "filter or transform expression", "filter and transform expressions"), plural(e.Tables, "table", "tables")))
	}
	var details []string
	for _, p := range e.Problems {
		line := fmt.Sprintf("%s: %s (%s): %s", p.Place, p.Path, p.Table, p.Msg)
		if p.Hint != "" {
			line += " (" + p.Hint + ")"
		}
		details = append(details, line)
		if p.Snippet != "" {
			details = append(details, strings.Split(p.Snippet, "\n")...)
		}
	}
	failed := max(e.Failed, len(e.Problems))
	it := fail(fmt.Sprintf("%s of %d do not type-check against the source's columns",
		plural(failed, "expression", "expressions"), e.Expressions),
		"fix the expressions at the places shown (docs/etl.md lists the types and functions), then run the precheck again")
	it.Details = details
	return it
}
