package spec

import (
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// Operations a table entry can replicate during incremental migration.
const (
	OpInsert = "insert"
	OpUpdate = "update"
	OpDelete = "delete"
	OpDDL    = "ddl"
)

// AllOperations is what an entry without operations: replicates.
var AllOperations = []string{OpInsert, OpUpdate, OpDelete, OpDDL}

// tableFields is the mapping form of a table entry; a distinct type so decoding it
// does not recurse into Table.UnmarshalYAML.
type tableFields Table

// UnmarshalYAML accepts the two forms of a `tables:` entry: a plain string (a name or
// a glob) or a mapping. The mapping is decoded by the same decoder, so Parse's strict
// options (unknown keys are errors) apply to it too.
func (t *Table) UnmarshalYAML(unmarshal func(any) error) error {
	var name string
	if err := unmarshal(&name); err == nil {
		*t = Table{Name: name}
		return nil
	}
	var f tableFields
	if err := unmarshal(&f); err != nil {
		return err
	}
	*t = Table(f)
	return nil
}

// MarshalYAML writes the short form (just the name) when nothing else is set, so a
// rendered plan reads like what the user wrote.
func (t Table) MarshalYAML() (any, error) {
	if t.IsPlain() {
		return t.Name, nil
	}
	m := yaml.MapSlice{{Key: "name", Value: t.Name}}
	if t.To != "" {
		m = append(m, yaml.MapItem{Key: "to", Value: t.To})
	}
	if len(t.Columns) > 0 {
		m = append(m, yaml.MapItem{Key: "columns", Value: sortedMap(t.Columns)})
	}
	if len(t.ExcludeColumns) > 0 {
		m = append(m, yaml.MapItem{Key: "exclude_columns", Value: flowList(t.ExcludeColumns)})
	}
	if t.Filter != "" {
		m = append(m, yaml.MapItem{Key: "filter", Value: t.Filter})
	}
	if len(t.Transform) > 0 {
		m = append(m, yaml.MapItem{Key: "transform", Value: sortedMap(t.Transform)})
	}
	if t.Operations != nil {
		m = append(m, yaml.MapItem{Key: "operations", Value: flowList(t.Operations)})
	}
	return m, nil
}

func sortedMap(m map[string]string) yaml.MapSlice {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(yaml.MapSlice, len(keys))
	for i, k := range keys {
		out[i] = yaml.MapItem{Key: k, Value: m[k]}
	}
	return out
}

// IsPlain reports an entry that is only a name (the string form).
func (t Table) IsPlain() bool {
	return t.To == "" && len(t.Columns) == 0 && len(t.ExcludeColumns) == 0 &&
		t.Filter == "" && len(t.Transform) == 0 && t.Operations == nil
}

// IsGlob reports whether Name is a pattern (path.Match syntax) rather than one table.
// A backslash makes it a pattern too: `a\*b` is how a table literally named a*b is
// selected.
func (t Table) IsGlob() bool { return IsGlob(t.Name) }

// IsGlob reports whether s uses path.Match pattern syntax.
func IsGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// Target is the destination table name: To, or the source name.
func (t Table) Target() string {
	if t.To != "" {
		return t.To
	}
	return t.Name
}

// TargetColumn is the destination name of a source column.
func (t Table) TargetColumn(col string) string {
	if to, ok := t.Columns[col]; ok && to != "" {
		return to
	}
	return col
}

// Allows reports whether incremental migration replicates op for this entry; an entry
// without operations replicates all of them.
func (t Table) Allows(op string) bool {
	if t.Operations == nil {
		return true
	}
	return slices.Contains(t.Operations, op)
}

// Target is the destination database name: To, or the source name.
func (o Object) Target() string {
	if o.To != "" {
		return o.To
	}
	return o.Database
}

// envRef is the only accepted password form: ${NAME}.
var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// PasswordRef returns NAME for a password written as ${NAME}: the environment
// variable of the worker that holds the secret.
func (e Endpoint) PasswordRef() (envName string, ok bool) {
	m := envRef.FindStringSubmatch(e.Password)
	if m == nil {
		return "", false
	}
	return m[1], true
}
