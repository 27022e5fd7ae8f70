package ddl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// stmt is a tokenized statement with an index of its significant (non-trivia)
// tokens. Rewrites change toks[i].Text (or blank ranges) and Join reproduces
// every untouched byte.
type stmt struct {
	toks []sqltok.Token
	sig  []int // indexes into toks of the non-trivia tokens
}

func tokenize(what, sql string) (*stmt, error) {
	toks, err := sqltok.Tokenize(sql)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	s := &stmt{toks: toks}
	for i, t := range toks {
		if !t.Trivia() {
			s.sig = append(s.sig, i)
		}
	}
	return s, nil
}

// tok returns the k-th significant token (a zero Space token past the end).
func (s *stmt) tok(k int) sqltok.Token {
	if k < 0 || k >= len(s.sig) {
		return sqltok.Token{Kind: sqltok.Space}
	}
	return s.toks[s.sig[k]]
}

// set replaces the text of the k-th significant token.
func (s *stmt) set(k int, text string) { s.toks[s.sig[k]].Text = text }

// blank empties the tokens toks[from:to] (raw indexes).
func (s *stmt) blank(from, to int) {
	for i := from; i < to; i++ {
		s.toks[i].Text = ""
	}
}

func (s *stmt) String() string { return sqltok.Join(s.toks) }

// isName reports whether the k-th significant token is an identifier (quoted or a word).
func (s *stmt) isName(k int) bool {
	t := s.tok(k)
	return t.Kind == sqltok.Ident || t.Kind == sqltok.Word
}

func (s *stmt) name(k int) string {
	n, _ := s.tok(k).Name()
	return n
}

// qualified reads a name of up to max parts (a.b.c) starting at k; it returns the
// parts and the index after the name. No parts when k is not a name.
func (s *stmt) qualified(k, max int) ([]string, int) {
	var parts []string
	for len(parts) < max && s.isName(k) {
		parts = append(parts, s.name(k))
		if len(parts) < max && s.tok(k+1).IsOp(".") && s.isName(k+2) {
			k += 2
			continue
		}
		k++
		break
	}
	return parts, k
}

// matching returns the index of the ")" closing the "(" at k, or -1.
func (s *stmt) matching(k int) int {
	depth := 0
	for ; k < len(s.sig); k++ {
		switch t := s.tok(k); {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
			if depth == 0 {
				return k
			}
		}
	}
	return -1
}

// findWord returns the first k >= from where the token is the word w, or -1.
func (s *stmt) findWord(from int, w string) int {
	for k := from; k < len(s.sig); k++ {
		if s.tok(k).Is(w) {
			return k
		}
	}
	return -1
}

// replaceRange replaces significant tokens k..end (inclusive), and the trivia
// between them, by text.
func (s *stmt) replaceRange(k, end int, text string) {
	s.blank(s.sig[k], s.sig[end]+1)
	s.toks[s.sig[k]].Text = text
}

// qualify writes `db`.`name`.
func qualify(db, name string) string {
	return sqltok.Quote(db) + "." + sqltok.Quote(name)
}

// DependencyError says that an excluded column is still needed by another object.
// The precheck reports it; the schema phase refuses to create a broken definition.
type DependencyError struct {
	// Database, Table and Column name the excluded column (source names).
	Database, Table, Column string
	// Dependent describes what uses it, with its owner, e.g.
	// "index `idx_x` of table `db`.`t`" or "view `db`.`v`".
	Dependent string
}

func (e *DependencyError) Error() string {
	return fmt.Sprintf("column %s.%s.%s is excluded (exclude_columns) but %s depends on it",
		sqltok.Quote(e.Database), sqltok.Quote(e.Table), sqltok.Quote(e.Column), e.Dependent)
}

// DependencyErrors returns every *DependencyError in err (which may join several).
func DependencyErrors(err error) []*DependencyError {
	var out []*DependencyError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if d, ok := err.(*DependencyError); ok {
			out = append(out, d)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// depErrs collects dependency errors without duplicates.
type depErrs struct {
	seen map[string]bool
	errs []error
}

func (d *depErrs) add(e *DependencyError) {
	key := e.Error()
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	if !d.seen[key] {
		d.seen[key] = true
		d.errs = append(d.errs, e)
	}
}

func (d *depErrs) err() error { return errors.Join(d.errs...) }

// foldEq compares identifiers the way MariaDB compares column names (without case).
func foldEq(a, b string) bool { return strings.EqualFold(a, b) }
