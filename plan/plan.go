// Package plan resolves a workflow file's object selection against the source
// catalog: which source tables are selected, under which destination names (after
// renames and the options.case policy), through which `tables:` entry, and what is
// wrong with the selection. It is pure (no database access): the caller reads the
// catalog from the live server. The precheck, schema and full-copy phases all use it,
// so they agree on what "the selected tables" are.
package plan

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/spec"
	"github.com/sluice-dev/sluice/sqltok"
)

// Catalog is what the source server holds.
type Catalog struct {
	// Tables lists the base tables of each database, named as the server names them.
	Tables map[string][]string
	// Views lists the views of each database; `tables:` never selects them, but a
	// view named there gets a clear problem instead of "does not exist".
	Views map[string][]string
	// LowerCaseTableNames is the source's lower_case_table_names: with 1 or 2, names
	// compare without case (as the server does).
	LowerCaseTableNames int
}

// Options are the facts of the destination that naming depends on.
type Options struct {
	// DestinationLowerCaseTableNames is the destination's lower_case_table_names,
	// used by options.case=destination and to find names that collide there.
	DestinationLowerCaseTableNames int
}

// Name is a database-qualified table name.
type Name struct {
	DB, Table string
}

// String quotes the name for messages and SQL: `db`.`table`.
func (n Name) String() string {
	if n.Table == "" {
		return QuoteIdent(n.DB)
	}
	return QuoteIdent(n.DB) + "." + QuoteIdent(n.Table)
}

// QuoteIdent quotes an identifier with backticks, doubling backticks inside
// (sqltok.Quote; kept for its many callers).
func QuoteIdent(s string) string { return sqltok.Quote(s) }

// Table is one selected table.
type Table struct {
	Source Name
	Dest   Name
	// Object indexes spec.Objects; EntryIndex indexes that object's Tables, or is -1
	// when the object lists no tables (all tables are selected).
	Object     int
	EntryIndex int
	// Entry is the `tables:` entry that selected the table (for a glob, the glob
	// entry: its filter, operations and so on apply to every table it matches).
	Entry spec.Table
}

// Database is one selected source database and where it goes.
type Database struct {
	Source, Dest string
	Object       int
}

// ProblemKind classifies a problem of the selection.
type ProblemKind string

const (
	MissingDatabase ProblemKind = "missing_database"
	MissingTable    ProblemKind = "missing_table"
	GlobNoMatch     ProblemKind = "glob_no_match"
	NamedExcluded   ProblemKind = "named_excluded"
	SelectedTwice   ProblemKind = "selected_twice"
	NameCollision   ProblemKind = "name_collision"
)

// Severity of a problem: a Fail stops the migration, a Warn is worth a look.
type Severity string

const (
	Fail Severity = "fail"
	Warn Severity = "warn"
)

// Problem is something wrong with the selection.
type Problem struct {
	Kind     ProblemKind
	Severity Severity
	Object   int
	// Subject is what the problem is about, quoted (`db`, `db`.`table` or a glob).
	Subject string
	Message string
}

// Plan is the resolved selection.
type Plan struct {
	Databases []Database
	Tables    []Table
	Problems  []Problem
	// Case is options.case; SourceFoldsCase tells that the source compares table names
	// case-insensitively (lower_case_table_names 1 or 2). Names() needs both.
	Case            string
	SourceFoldsCase bool
}

// ProblemsOf returns the problems of the given kinds.
func (p Plan) ProblemsOf(kinds ...ProblemKind) []Problem {
	var out []Problem
	for _, pr := range p.Problems {
		if slices.Contains(kinds, pr.Kind) {
			out = append(out, pr)
		}
	}
	return out
}

// SourceDatabases lists the distinct source databases that exist, in spec order.
func (p Plan) SourceDatabases() []string {
	var out []string
	for _, d := range p.Databases {
		if !slices.Contains(out, d.Source) {
			out = append(out, d.Source)
		}
	}
	return out
}

// DestDatabases lists the distinct destination databases, in spec order.
func (p Plan) DestDatabases() []string {
	var out []string
	for _, d := range p.Databases {
		if !slices.Contains(out, d.Dest) {
			out = append(out, d.Dest)
		}
	}
	return out
}

// Case policies (options.case).
const (
	CaseDefault     = "default"
	CaseSource      = "source"
	CaseDestination = "destination"
	CaseLower       = "lower"
	CaseUpper       = "upper"
)

// ApplyCase applies the options.case policy to a destination name:
//   - default, source: as mapped (the source name, or the `to` rename as written);
//   - destination: as the destination server stores it (lower case when its
//     lower_case_table_names is 1, as written otherwise);
//   - lower, upper: folded.
func ApplyCase(policy string, destLowerCaseTableNames int, name string) string {
	switch policy {
	case CaseLower:
		return strings.ToLower(name)
	case CaseUpper:
		return strings.ToUpper(name)
	case CaseDestination:
		if destLowerCaseTableNames == 1 {
			return strings.ToLower(name)
		}
	}
	return name
}

// matcher compares names the way the source server does.
type matcher struct{ fold bool }

func (m matcher) eq(a, b string) bool {
	if m.fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// glob matches a path.Match pattern against a table name. Table names may contain
// '/', which path.Match never lets '*' cross, so '/' is swapped for NUL (which no
// identifier can hold) on both sides.
func (m matcher) glob(pattern, name string) bool {
	if m.fold {
		pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	}
	ok, err := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(name, "/", "\x00"))
	return err == nil && ok
}

// entryMatches reports whether a `tables:` or exclude_tables entry selects name. A
// string without glob characters is an exact name.
func (m matcher) entryMatches(entry, name string) bool {
	if spec.IsGlob(entry) {
		return m.glob(entry, name)
	}
	return m.eq(entry, name)
}

// Resolve resolves the selection of s against the source catalog.
func Resolve(s spec.Spec, cat Catalog, opt Options) Plan {
	m := matcher{fold: cat.LowerCaseTableNames != 0}
	caseP := s.Options.Case
	p := Plan{Case: caseP, SourceFoldsCase: m.fold}
	dbNames := sortedKeys(cat.Tables)
	for name := range cat.Views {
		if _, ok := cat.Tables[name]; !ok {
			dbNames = append(dbNames, name)
		}
	}
	selected := map[string]int{} // source key -> index in p.Tables
	srcKey := func(n Name) string {
		if m.fold {
			return strings.ToLower(n.DB) + "\x00" + strings.ToLower(n.Table)
		}
		return n.DB + "\x00" + n.Table
	}

	for oi, obj := range s.Objects {
		db, ok := findName(m, dbNames, obj.Database)
		if !ok {
			msg := fmt.Sprintf("database %s does not exist on the source", QuoteIdent(obj.Database))
			if hint, ok := findName(matcher{fold: true}, dbNames, obj.Database); ok {
				msg += fmt.Sprintf(" (the source has %s: names are case-sensitive there)", QuoteIdent(hint))
			} else {
				msg += " (or the source account has no privilege on it)"
			}
			p.Problems = append(p.Problems, Problem{MissingDatabase, Fail, oi, QuoteIdent(obj.Database), msg})
			continue
		}
		destDB := ApplyCase(caseP, opt.DestinationLowerCaseTableNames, obj.Target())
		p.Databases = append(p.Databases, Database{Source: db, Dest: destDB, Object: oi})

		tables := slices.Clone(cat.Tables[db])
		slices.Sort(tables)
		entries := obj.Tables
		implicit := len(entries) == 0
		if implicit {
			entries = []spec.Table{{Name: "*"}}
		}
		matched := make([]bool, len(entries))
		for _, tbl := range tables {
			ei := pickEntry(m, entries, tbl)
			if ei < 0 {
				continue
			}
			matched[ei] = true
			e := entries[ei]
			if ex, ok := excludedBy(m, obj.ExcludeTables, tbl); ok {
				if !e.IsGlob() {
					p.Problems = append(p.Problems, Problem{NamedExcluded, Warn, oi, Name{db, tbl}.String(),
						fmt.Sprintf("%s is named in tables but exclude_tables entry %q excludes it: it is not migrated", Name{db, tbl}, ex)})
				}
				continue
			}
			destTable := tbl
			if !e.IsGlob() && e.To != "" {
				destTable = e.To
			}
			t := Table{
				Source:     Name{db, tbl},
				Dest:       Name{destDB, ApplyCase(caseP, opt.DestinationLowerCaseTableNames, destTable)},
				Object:     oi,
				EntryIndex: ei,
				Entry:      e,
			}
			if implicit {
				t.EntryIndex = -1
			}
			k := srcKey(t.Source)
			if first, dup := selected[k]; dup {
				p.Problems = append(p.Problems, Problem{SelectedTwice, Fail, oi, t.Source.String(),
					fmt.Sprintf("%s is selected by objects[%d] and again by objects[%d]: list each table once", t.Source, p.Tables[first].Object, oi)})
				continue
			}
			selected[k] = len(p.Tables)
			p.Tables = append(p.Tables, t)
		}
		for ei, e := range entries {
			if matched[ei] || implicit {
				continue
			}
			if e.IsGlob() {
				p.Problems = append(p.Problems, Problem{GlobNoMatch, Warn, oi, fmt.Sprintf("%q", e.Name),
					fmt.Sprintf("tables entry %q matches no table of %s", e.Name, QuoteIdent(db))})
				continue
			}
			n := Name{db, e.Name}
			if _, isView := findName(m, cat.Views[db], e.Name); isView {
				// Views are selected by the same entries; the schema phase creates them.
				continue
			}
			msg := fmt.Sprintf("table %s does not exist on the source", n)
			if hint, ok := findName(matcher{fold: true}, tables, e.Name); ok {
				msg += fmt.Sprintf(" (the source has %s: names are case-sensitive there)", Name{db, hint})
			} else {
				msg += " (or the source account has no privilege on it)"
			}
			p.Problems = append(p.Problems, Problem{MissingTable, Fail, oi, n.String(), msg})
		}
	}
	p.Problems = append(p.Problems, collisions(p.Tables, opt.DestinationLowerCaseTableNames)...)
	return p
}

// pickEntry chooses the entry that selects a table: an exact name wins over globs
// (so `["*", {name: orders, to: orders_v2}]` renames orders); among globs the first
// one wins.
func pickEntry(m matcher, entries []spec.Table, table string) int {
	for i, e := range entries {
		if !e.IsGlob() && m.eq(e.Name, table) {
			return i
		}
	}
	for i, e := range entries {
		if e.IsGlob() && m.glob(e.Name, table) {
			return i
		}
	}
	return -1
}

func excludedBy(m matcher, excludes []string, table string) (string, bool) {
	for _, ex := range excludes {
		if m.entryMatches(ex, table) {
			return ex, true
		}
	}
	return "", false
}

// collisions finds selected tables that land on the same destination table. On a
// destination with lower_case_table_names 1 or 2, names that differ only in case
// collide too.
func collisions(tables []Table, destLCTN int) []Problem {
	var out []Problem
	seen := map[string]int{}
	for i, t := range tables {
		k := t.Dest.DB + "\x00" + t.Dest.Table
		if destLCTN != 0 {
			k = strings.ToLower(k)
		}
		if j, ok := seen[k]; ok {
			out = append(out, Problem{NameCollision, Fail, t.Object, t.Dest.String(),
				fmt.Sprintf("%s and %s would both be migrated to %s", tables[j].Source, t.Source, t.Dest)})
			continue
		}
		seen[k] = i
	}
	return out
}

func findName(m matcher, names []string, want string) (string, bool) {
	// An exact match wins over a case-insensitive one.
	if slices.Contains(names, want) {
		return want, true
	}
	for _, n := range names {
		if m.eq(n, want) {
			return n, true
		}
	}
	return "", false
}

func sortedKeys[V any](mp map[string]V) []string {
	out := make([]string, 0, len(mp))
	for k := range mp {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// MaxIdentifierLength is MySQL's limit for database and table names, in characters.
const MaxIdentifierLength = 64

// CheckIdentifier says what makes name unusable as a MySQL/MariaDB database or table
// name, or "" when it is fine.
func CheckIdentifier(name string) string {
	switch {
	case name == "":
		return "is empty"
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(name) > MaxIdentifierLength:
		return fmt.Sprintf("is %d characters long (the limit is %d)", utf8.RuneCountInString(name), MaxIdentifierLength)
	case strings.HasSuffix(name, " "):
		return "ends with a space (the server refuses trailing spaces in names)"
	case strings.ContainsRune(name, 0):
		return "contains a NUL character"
	}
	for _, r := range name {
		if r > 0xFFFF {
			return fmt.Sprintf("contains %q, a character outside the Basic Multilingual Plane that identifiers cannot hold (they are utf8mb3)", r)
		}
	}
	return ""
}
