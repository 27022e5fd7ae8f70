package spec

import (
	"github.com/sluice-dev/sluice/suggest"

	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Load reads a workflow file, decodes it strictly, applies the defaults and
// validates it. Every problem comes back at once as Errors, each naming
// file:line:column and the field.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read workflow file: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for bytes already in memory; file only names the source in messages.
func Parse(file string, data []byte) (*Spec, error) {
	s, err := decode(file, data)
	if err != nil {
		return nil, err
	}
	s.ApplyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// maxDepth bounds nesting (aliases can make a small file deep); the schema itself is
// at most six levels deep.
const maxDepth = 32

// decode turns the YAML into a Spec. It first walks the YAML tree against the Go
// types to collect every unknown key, duplicate key and wrong type with its position
// (the library decoder stops at the first problem and does not say which field);
// only a clean tree is then decoded by goccy/go-yaml in strict mode.
func decode(file string, data []byte) (*Spec, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "the file is empty: a workflow file needs name, source, destination, types and objects"}}
	}
	// The parser lets duplicate keys through so that the walk reports all of them,
	// with their field paths: the walk is what rejects them.
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		e := yamlError(file, err, nil)
		if aliasLike(data, e.Line) {
			e.Msg += ` (a value starting with * is an alias in YAML: quote table patterns, e.g. "*")`
		}
		if refInFlow(data, e.Line) {
			e.Msg += ` (inside { } braces end the mapping: quote the reference, e.g. password: "${SRC_PASSWORD}")`
		}
		return nil, Errors{e}
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, Errors{{File: file, Line: 1, Column: 1, Msg: "the file has no content (only comments?): a workflow file needs name, source, destination, types and objects"}}
	}
	if len(docs) > 1 {
		p := nodePos(docs[1].Body)
		return nil, Errors{{File: file, Line: p.Line, Column: p.Column, Msg: "a workflow file holds one YAML document; remove the second one (after ---)"}}
	}
	d := &decoder{file: file, pos: newPositions(), anchors: map[string]ast.Node{}}
	d.walk(docs[0].Body, specType, "", 0)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	// The walk has rejected duplicate keys; allowing them here only lets the keys
	// after a merge key (<<) override the merged ones.
	var s Spec
	if err := yaml.UnmarshalWithOptions(data, &s, yaml.Strict(), yaml.DisallowUnknownField(), yaml.AllowDuplicateMapKey()); err != nil {
		return nil, Errors{yamlError(file, err, d.pos)}
	}
	s.File = file
	s.pos = d.pos
	s.normalize()
	s.locateExpressions(data)
	return &s, nil
}

// locateExpressions fills Table.ExprLines: each line of an expression is looked
// for in the file from where its YAML value starts (plain, quoted or block
// scalars alike; an escape inside a quoted string makes a later column an
// estimate).
func (s *Spec) locateExpressions(data []byte) {
	lines := strings.Split(string(data), "\n")
	for i := range s.Objects {
		for j := range s.Objects[i].Tables {
			t := &s.Objects[i].Tables[j]
			base := indexPath(childPath(indexPath("objects", i), "tables"), j)
			exprs := map[string]string{}
			if t.Filter != "" {
				exprs["filter"] = t.Filter
			}
			for col, e := range t.Transform {
				exprs["transform."+col] = e
			}
			for key, e := range exprs {
				path := childPath(base, "filter")
				if col, ok := strings.CutPrefix(key, "transform."); ok {
					path = childPath(childPath(base, "transform"), col)
				}
				at, ok := s.pos.of(path)
				if !ok {
					continue
				}
				if t.ExprLines == nil {
					t.ExprLines = map[string][]Pos{}
				}
				t.ExprLines[key] = locate(lines, at, e)
			}
		}
	}
}

// locate finds where each line of expr starts in the file, from the value's
// position on.
func locate(lines []string, at Pos, expr string) []Pos {
	var out []Pos
	ln := at.Line - 1
	for k, el := range strings.Split(expr, "\n") {
		want := strings.TrimLeft(el, " \t")
		lead := len([]rune(el)) - len([]rune(want))
		found := false
		for l := ln; l < len(lines) && l < ln+3 && want != ""; l++ {
			from := 0
			if l == at.Line-1 {
				from = min(max(at.Column-1, 0), len(lines[l]))
			}
			if i := strings.Index(lines[l][from:], want); i >= 0 {
				col := len([]rune(lines[l][:from+i])) + 1 - lead
				out = append(out, Pos{Line: l + 1, Column: max(col, 1)})
				ln = l + 1
				found = true
				break
			}
		}
		if !found {
			// An empty line, or text the YAML scalar rewrote (escapes, folding).
			if k == 0 {
				out = append(out, at)
			} else {
				out = append(out, Pos{Line: out[len(out)-1].Line + 1, Column: 1})
			}
			ln = out[len(out)-1].Line
		}
	}
	return out
}

// aliasLike reports a line with an unquoted '*' starting a value ([*], - *x, : *x),
// the usual cause of a confusing syntax error in a workflow file.
func aliasLike(data []byte, line int) bool {
	return unquotedStar.Match(lineAt(data, line))
}

// lineAt is line n (1-based) of data, or nil.
func lineAt(data []byte, n int) []byte {
	lines := bytes.Split(data, []byte("\n"))
	if n < 1 || n > len(lines) {
		return nil
	}
	return lines[n-1]
}

var unquotedStar = regexp.MustCompile(`(^|[\[,:-])\s*\*`)

// refInFlow reports a line with an unquoted ${NAME} inside a { } mapping, e.g.
// source: {host: h, password: ${PW}}: YAML reads its braces as flow indicators.
func refInFlow(data []byte, line int) bool {
	l := lineAt(data, line)
	return bytes.Contains(l, []byte("{")) && unquotedRef.Match(l)
}

var unquotedRef = regexp.MustCompile(`:\s*\$\{`)

// yamlError places an error of the YAML library. Its messages never contain scalar
// values (only key names), so no secret can leak through them.
func yamlError(file string, err error, pos *positions) *Error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		p := ye.GetToken().Position
		e := &Error{File: file, Line: p.Line, Column: p.Column, Msg: ye.GetMessage()}
		if pos != nil {
			e.Field = pos.pathAt(Pos{Line: p.Line, Column: p.Column})
		}
		return e
	}
	return &Error{File: file, Msg: fmt.Sprintf("invalid YAML: %v", err)}
}

// Pos is a 1-based line and column in the workflow file.
type Pos struct{ Line, Column int }

// positions remembers where each field path was written, so that validation (which
// works on the decoded Spec) can point into the file.
type positions struct {
	key map[string]Pos // where "field:" is written
	val map[string]Pos // where its value starts
}

func newPositions() *positions {
	return &positions{key: map[string]Pos{}, val: map[string]Pos{}}
}

// of finds the position for a field path. A field that is not in the file (a missing
// required one, for instance) is reported at the nearest enclosing mapping that is.
func (p *positions) of(path string) (Pos, bool) {
	if p == nil {
		return Pos{}, false
	}
	if v, ok := p.val[path]; ok {
		return v, true
	}
	if k, ok := p.key[path]; ok {
		return k, true
	}
	for path != "" {
		path = parentPath(path)
		if k, ok := p.key[path]; ok {
			return k, true
		}
		if v, ok := p.val[path]; ok {
			return v, true
		}
	}
	return Pos{}, false
}

// pathAt is the reverse lookup, for errors of the YAML library that only carry a token.
func (p *positions) pathAt(at Pos) string {
	best := ""
	for _, m := range []map[string]Pos{p.val, p.key} {
		for path, q := range m {
			// Several paths can start at one position (a mapping and its first key):
			// the longest is the most precise.
			if q == at && len(path) > len(best) {
				best = path
			}
		}
		if best != "" {
			return best
		}
	}
	return best
}

var plainSegment = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// childPath appends a key: "source" + "host" -> "source.host". Keys that would make
// the path ambiguous (a column named "a.b") are quoted: columns["a.b"].
func childPath(parent, key string) string {
	if !plainSegment.MatchString(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// parentPath strips the last segment: "objects[0].tables[1]" -> "objects[0].tables".
func parentPath(path string) string {
	if strings.HasSuffix(path, `"]`) {
		if i := strings.LastIndex(path, `["`); i >= 0 {
			return path[:i]
		}
	}
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

var (
	specType     = reflect.TypeFor[Spec]()
	tableType    = reflect.TypeFor[Table]()
	durationType = reflect.TypeFor[Duration]()
)

type decoder struct {
	file    string
	errs    Errors
	pos     *positions
	anchors map[string]ast.Node
}

func (d *decoder) errorf(at Pos, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: at.Line, Column: at.Column, Field: path, Msg: fmt.Sprintf(format, args...)})
}

// nodePos is where a node starts as a reader sees it: for a block mapping that is its
// first key (the library's token for it is the first ':').
func nodePos(n ast.Node) Pos {
	switch m := n.(type) {
	case *ast.MappingNode:
		if !m.IsFlowStyle && len(m.Values) > 0 {
			return nodePos(m.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return nodePos(m.Key)
	}
	if n == nil || n.GetToken() == nil {
		return Pos{}
	}
	p := n.GetToken().Position
	return Pos{Line: p.Line, Column: p.Column}
}

// resolve follows anchors, aliases and tags to the node that holds the value.
// isStr reports an explicit !!str tag (the value is text even if it looks like a number).
func (d *decoder) resolve(n ast.Node, path string) (_ ast.Node, isStr bool) {
	for range maxDepth {
		switch x := n.(type) {
		case *ast.AnchorNode:
			if x.Name != nil && x.Name.GetToken() != nil {
				d.anchors[x.Name.GetToken().Value] = x.Value
			}
			n = x.Value
		case *ast.AliasNode:
			name := ""
			if x.Value != nil && x.Value.GetToken() != nil {
				name = x.Value.GetToken().Value
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(nodePos(x), path, "alias *%s refers to no anchor &%s defined before it; if it is a table pattern, quote it: \"*%s\"", name, name, name)
				return nil, false
			}
			n = target
		case *ast.TagNode:
			tag := ""
			if x.Start != nil {
				tag = x.Start.Value
			}
			if tag != "!!str" {
				d.errorf(nodePos(x), path, "YAML tag %s is not supported (only !!str, to force text)", tag)
				return nil, false
			}
			isStr = true
			n = x.Value
		default:
			return n, isStr
		}
	}
	d.errorf(nodePos(n), path, "aliases nested too deeply")
	return nil, false
}

// walk checks node against the Go type t, recording positions and problems.
func (d *decoder) walk(n ast.Node, t reflect.Type, path string, depth int) {
	if depth > maxDepth {
		d.errorf(nodePos(n), path, "nested too deeply")
		return
	}
	n, isStr := d.resolve(n, path)
	if n == nil {
		return
	}
	d.pos.val[path] = nodePos(n)
	if _, ok := n.(*ast.NullNode); ok {
		return // null or an empty value: the zero value, as the decoder does
	}
	switch {
	case t == tableType:
		if _, ok := mappingPairs(n); ok {
			d.walkStruct(n, t, path, depth)
			return
		}
		d.scalar(n, reflect.TypeFor[string](), path, isStr, "a table name or a mapping with name:")
	case t == durationType:
		d.duration(n, path)
	case t.Kind() == reflect.Pointer:
		// An optional value (*bool: unset means the default).
		d.walk(n, t.Elem(), path, depth+1)
	case t.Kind() == reflect.Struct:
		d.walkStruct(n, t, path, depth)
	case t.Kind() == reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.errorf(nodePos(n), path, "expected a list, got %s%s", describe(n, isSecret(path)), listHint(n))
			return
		}
		for i, e := range seq.Values {
			d.walk(e, t.Elem(), indexPath(path, i), depth+1)
		}
	case t.Kind() == reflect.Map:
		d.walkMap(n, t, path, depth)
	default:
		d.scalar(n, t, path, isStr, "")
	}
}

// listHint suggests the flow form when a single value was written where a list belongs.
func listHint(n ast.Node) string {
	if _, ok := n.(ast.ScalarNode); ok && n.GetToken() != nil {
		b, _ := flowList{scalarText(n)}.MarshalYAML()
		return ": write " + string(b)
	}
	return ""
}

func mappingPairs(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

func keyText(k ast.MapKeyNode) string {
	switch x := k.(type) {
	case *ast.StringNode:
		return x.Value
	case *ast.MergeKeyNode:
		return "<<"
	}
	if k.GetToken() != nil {
		return k.GetToken().Value
	}
	return ""
}

// pairs returns the key/value pairs of a mapping with a YAML merge key (<<: *base)
// expanded. The merge key must come first, so that the keys after it override the
// merged ones both here and in the library decoder (where the last one written wins).
func (d *decoder) pairs(n ast.Node, path string, depth int) []*ast.MappingValueNode {
	raw, _ := mappingPairs(n)
	var explicit, merged []*ast.MappingValueNode
	for i, p := range raw {
		if p.Key == nil || !p.Key.IsMergeKey() {
			explicit = append(explicit, p)
			continue
		}
		if i != 0 {
			d.errorf(nodePos(p.Key), path, "write the merge key (<<) first in its mapping, so that the keys after it override it")
			continue
		}
		if depth > maxDepth {
			d.errorf(nodePos(p.Key), path, "merge keys nested too deeply")
			continue
		}
		src, _ := d.resolve(p.Value, path)
		if src == nil {
			continue
		}
		if _, ok := mappingPairs(src); !ok {
			d.errorf(nodePos(p.Value), path, "a merge key (<<) needs one mapping, like <<: *base")
			continue
		}
		merged = d.pairs(src, path, depth+1)
	}
	have := map[string]bool{}
	for _, p := range explicit {
		have[keyText(p.Key)] = true
	}
	out := explicit
	for _, p := range merged {
		if !have[keyText(p.Key)] {
			out = append(out, p)
		}
	}
	return out
}

func (d *decoder) walkStruct(n ast.Node, t reflect.Type, path string, depth int) {
	if _, ok := mappingPairs(n); !ok {
		d.errorf(nodePos(n), path, "expected a mapping (key: value lines), got %s", describe(n, false))
		return
	}
	fields := yamlFields(t)
	seen := map[string]Pos{}
	for _, p := range d.pairs(n, path, depth) {
		key := keyText(p.Key)
		kpath := childPath(path, key)
		kpos := nodePos(p.Key)
		if first, dup := seen[key]; dup {
			d.errorf(kpos, kpath, "duplicate key; first defined at line %d, column %d", first.Line, first.Column)
			continue
		}
		seen[key] = kpos
		f, ok := fields[key]
		if !ok {
			d.errorf(kpos, kpath, "%s", unknownFieldMsg(key, t))
			continue
		}
		d.pos.key[kpath] = kpos
		d.walk(p.Value, f.Type, kpath, depth+1)
	}
}

func (d *decoder) walkMap(n ast.Node, t reflect.Type, path string, depth int) {
	if _, ok := mappingPairs(n); !ok {
		d.errorf(nodePos(n), path, "expected a mapping (key: value lines), got %s", describe(n, false))
		return
	}
	seen := map[string]Pos{}
	for _, p := range d.pairs(n, path, depth) {
		kpos := nodePos(p.Key)
		if _, ok := p.Key.(ast.ScalarNode); !ok {
			d.errorf(kpos, path, "keys must be plain names")
			continue
		}
		key := keyText(p.Key)
		kpath := childPath(path, key)
		if first, dup := seen[key]; dup {
			d.errorf(kpos, kpath, "duplicate key; first defined at line %d, column %d", first.Line, first.Column)
			continue
		}
		seen[key] = kpos
		d.pos.key[kpath] = kpos
		d.walk(p.Value, t.Elem(), kpath, depth+1)
	}
}

// isSecret marks fields whose value must never be echoed in a message.
func isSecret(path string) bool {
	return path == "source.password" || path == "destination.password"
}

// describe names what was found, for "expected X, got Y" messages.
func describe(n ast.Node, secret bool) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing"
	}
	if secret {
		return "a value"
	}
	v := scalarText(n)
	if r := []rune(v); len(r) > 40 {
		v = string(r[:40]) + "..."
	}
	return strconv.Quote(v)
}

// scalarText is the scalar as written (without quotes; block scalars' content).
func scalarText(n ast.Node) string {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value
	case *ast.LiteralNode:
		if x.Value != nil {
			return x.Value.Value
		}
		return ""
	}
	if n.GetToken() != nil {
		return n.GetToken().Value
	}
	return ""
}

// scalar checks a leaf. YAML turns unquoted 007 into the number 7 and 1.50 into 1.5;
// for a text field that silent change is refused (quote it), and for a number field a
// fraction is refused rather than truncated.
func (d *decoder) scalar(n ast.Node, t reflect.Type, path string, isStr bool, want string) {
	secret := isSecret(path)
	if want == "" {
		want = expected(t)
	}
	at := nodePos(n)
	if _, ok := n.(ast.ScalarNode); !ok {
		d.errorf(at, path, "expected %s, got %s", want, describe(n, secret))
		return
	}
	switch t.Kind() {
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode:
			return
		}
		if isStr {
			return
		}
		var got string
		if err := yaml.NodeToValue(n, &got); err != nil || got != scalarText(n) {
			if secret {
				d.errorf(at, path, "YAML would not read this value as written: quote it")
				return
			}
			d.errorf(at, path, "YAML reads %s as %q: quote it ('%s') to keep it as written", scalarText(n), got, scalarText(n))
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if _, ok := n.(*ast.IntegerNode); !ok || isStr {
			d.errorf(at, path, "expected %s, got %s", want, describe(n, secret))
			return
		}
		if err := yaml.NodeToValue(n, reflect.New(t).Interface()); err != nil {
			d.errorf(at, path, "%s is out of range for %s", scalarText(n), want)
		}
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok || isStr {
			d.errorf(at, path, "expected %s, got %s", want, describe(n, secret))
		}
	case reflect.Float64, reflect.Float32:
		switch n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
			if !isStr {
				return
			}
		case *ast.InfinityNode, *ast.NanNode:
			d.errorf(at, path, "expected a finite number, got %s", scalarText(n))
			return
		}
		d.errorf(at, path, "expected %s, got %s", want, describe(n, secret))
	default:
		d.errorf(at, path, "unsupported field type %s", t)
	}
}

func (d *decoder) duration(n ast.Node, path string) {
	at := nodePos(n)
	switch n.(type) {
	case *ast.StringNode:
		if _, err := time.ParseDuration(scalarText(n)); err != nil {
			d.errorf(at, path, "expected %s, got %s", expected(durationType), describe(n, false))
		}
	case *ast.IntegerNode, *ast.FloatNode:
		d.errorf(at, path, "%s has no unit: write %sm for minutes (or use h, s)", scalarText(n), scalarText(n))
	default:
		d.errorf(at, path, "expected %s, got %s", expected(durationType), describe(n, false))
	}
}

// expected names a Go type in user terms.
func expected(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration like 720m or 12h"
	case t == tableType:
		return "a table name or a mapping with name:"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	}
	return t.String()
}

// yamlFields maps the YAML keys of a struct to its fields, in declaration order.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for _, name := range yamlFieldNames(t) {
		for i := range t.NumField() {
			f := t.Field(i)
			if yamlName(f) == name {
				out[name] = f
			}
		}
	}
	return out
}

func yamlFieldNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

// fieldHomes maps each key of the schema to where it belongs ("port" -> source,
// destination), to explain a key that is valid but mis-indented.
var fieldHomes = func() map[string][]string {
	homes := map[string][]string{}
	var visit func(t reflect.Type, where string)
	visit = func(t reflect.Type, where string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			home := "under " + where
			if where == "" {
				home = "at the top level"
			}
			if !slices.Contains(homes[name], home) {
				homes[name] = append(homes[name], home)
			}
			ft := f.Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != durationType {
				sub := name
				if where != "" {
					sub = where + "." + name
				}
				if f.Type.Kind() == reflect.Slice {
					sub += "[]"
				}
				visit(ft, sub)
			}
		}
	}
	visit(specType, "")
	return homes
}()

func unknownFieldMsg(key string, t reflect.Type) string {
	known := yamlFieldNames(t)
	if c := suggest.Closest(key, known); c != "" {
		return fmt.Sprintf("unknown field; did you mean %q?", c)
	}
	if homes := fieldHomes[key]; len(homes) > 0 {
		return fmt.Sprintf("unknown field here; %q belongs %s: check the indentation", key, suggest.OneOf(homes))
	}
	return "unknown field; known fields here: " + strings.Join(known, ", ")
}
