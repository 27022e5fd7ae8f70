package flavor

import (
	"fmt"
	"strings"
)

// Priv is a privilege sluice needs, named the way this server shows it in SHOW
// GRANTS, with the other privileges that also satisfy it.
type Priv struct {
	Name string
	// Also lists privileges that include it on this server (e.g. SUPER on MySQL).
	Also []string
}

// PrivReplicationSlave reads the binlog over the replication protocol.
// (MariaDB 10.5.2+ also accepts REPLICATION REPLICA, which SHOW GRANTS prints as
// REPLICATION SLAVE.)
func (f Flavor) PrivReplicationSlave() Priv { return Priv{Name: "REPLICATION SLAVE"} }

// PrivBinlogMonitor runs SHOW MASTER/BINARY LOG STATUS and SHOW BINARY LOGS.
// MySQL: REPLICATION CLIENT (or SUPER). MariaDB 10.5.2+ split REPLICATION CLIENT
// into BINLOG MONITOR (REPLICATION CLIENT is accepted as an alias in GRANT, and SHOW
// GRANTS prints BINLOG MONITOR); SUPER no longer implies it.
func (f Flavor) PrivBinlogMonitor() Priv {
	if f.Kind == MariaDB && f.AtLeast(10, 5, 2) {
		return Priv{Name: "BINLOG MONITOR"}
	}
	return Priv{Name: "REPLICATION CLIENT", Also: []string{"SUPER"}}
}

// PrivBinlogEvents runs SHOW BINLOG EVENTS. MySQL: REPLICATION SLAVE. MariaDB
// 10.5.2+: BINLOG MONITOR (REPLICATION SLAVE before).
func (f Flavor) PrivBinlogEvents() Priv {
	if f.Kind == MariaDB && f.AtLeast(10, 5, 2) {
		return Priv{Name: "BINLOG MONITOR"}
	}
	return Priv{Name: "REPLICATION SLAVE"}
}

// PrivReplicaMonitor runs SHOW SLAVE/REPLICA STATUS. MariaDB 10.5.9+: SLAVE MONITOR
// (alias REPLICA MONITOR); MariaDB 10.5.2–10.5.8: REPLICATION SLAVE ADMIN; MySQL:
// REPLICATION CLIENT (or SUPER).
func (f Flavor) PrivReplicaMonitor() Priv {
	switch {
	case f.Kind == MariaDB && f.AtLeast(10, 5, 9):
		return Priv{Name: "SLAVE MONITOR"}
	case f.Kind == MariaDB && f.AtLeast(10, 5, 2):
		return Priv{Name: "REPLICATION SLAVE ADMIN"}
	}
	return Priv{Name: "REPLICATION CLIENT", Also: []string{"SUPER"}}
}

// canonicalPriv folds the aliases a server may print (or a user may type) into the
// name SHOW GRANTS prints on that flavor.
func (f Flavor) canonicalPriv(p string) string {
	p = strings.ToUpper(strings.Join(strings.Fields(p), " "))
	if f.Kind == MariaDB {
		switch p {
		case "REPLICATION CLIENT":
			if f.AtLeast(10, 5, 2) {
				return "BINLOG MONITOR"
			}
		case "REPLICA MONITOR":
			return "SLAVE MONITOR"
		case "REPLICATION REPLICA":
			return "REPLICATION SLAVE"
		case "REPLICATION REPLICA ADMIN":
			return "REPLICATION SLAVE ADMIN"
		}
	}
	if p == "ALL" {
		return "ALL PRIVILEGES"
	}
	return p
}

// Grants is the parsed output of SHOW GRANTS for the connected user.
type Grants struct {
	flavor Flavor
	// Global privileges (ON *.*).
	Global map[string]bool
	// GlobalGrantOption: WITH GRANT OPTION on *.*.
	GlobalGrantOption bool
	// DB holds database-level grants; the name is a LIKE pattern (% and _ are
	// wildcards unless escaped with a backslash).
	DB []DBGrant
	// Table holds table-level grants (not column-level ones, which cannot read or
	// write whole rows).
	Table []TableGrant
	// Revoked holds MySQL partial revokes (REVOKE ... ON db.* with partial_revokes=ON).
	Revoked []DBGrant
	// Roles are roles granted to the user. Their privileges appear in SHOW GRANTS
	// only when the role is active, so a missing privilege may come from one of them.
	Roles []string
	// CaseInsensitive compares database and table names without case
	// (lower_case_table_names 1 or 2).
	CaseInsensitive bool
}

// DBGrant is a grant ON `db`.*.
type DBGrant struct {
	Pattern string
	Privs   map[string]bool
}

// TableGrant is a grant ON `db`.`table`.
type TableGrant struct {
	DB, Table string
	Privs     map[string]bool
}

// ParseGrants parses SHOW GRANTS lines. Lines it does not understand (PROXY, routine
// grants) are ignored; a line that is not a GRANT/REVOKE at all is an error.
func (f Flavor) ParseGrants(lines []string) (Grants, error) {
	g := Grants{flavor: f, Global: map[string]bool{}}
	for _, line := range lines {
		if err := g.parseLine(line); err != nil {
			return g, fmt.Errorf("SHOW GRANTS line %q: %w", redactGrantLine(line), err)
		}
	}
	return g, nil
}

// redactGrantLine drops IDENTIFIED BY PASSWORD '<hash>' and everything after TO from
// a line quoted in an error: a password hash is a secret too.
func redactGrantLine(line string) string {
	toks, err := tokenize(line)
	if err != nil {
		if len(line) > 40 {
			return line[:40] + "…"
		}
		return line
	}
	var out []string
	for _, t := range toks {
		if t.kind == tokWord && strings.EqualFold(t.text, "TO") {
			out = append(out, "TO …")
			break
		}
		out = append(out, t.raw)
	}
	return strings.Join(out, " ")
}

type tokKind int

const (
	tokWord tokKind = iota
	tokIdent
	tokString
	tokPunct
)

type token struct {
	kind tokKind
	text string // unquoted value
	raw  string
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '`' || c == '"' || c == '\'':
			q := c
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				if s[j] == '\\' && q == '\'' && j+1 < len(s) {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if s[j] == q {
					if j+1 < len(s) && s[j+1] == q {
						b.WriteByte(q)
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(s[j])
				j++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated %c quote", q)
			}
			k := tokIdent
			if q == '\'' {
				k = tokString
			}
			toks = append(toks, token{k, b.String(), s[i:j]})
			i = j
		case strings.IndexByte(",().*@=", c) >= 0:
			toks = append(toks, token{tokPunct, string(c), string(c)})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \t\n\r,().*@=`\"'", s[j]) < 0 {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j], s[i:j]})
			i = j
		}
	}
	return toks, nil
}

func isWord(t token, w string) bool { return t.kind == tokWord && strings.EqualFold(t.text, w) }

func (g *Grants) parseLine(line string) error {
	toks, err := tokenize(line)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return nil
	}
	revoke := false
	switch {
	case isWord(toks[0], "GRANT"):
	case isWord(toks[0], "REVOKE"):
		revoke = true
	default:
		return fmt.Errorf("not a GRANT statement")
	}
	// Privilege list up to ON (privileges) or TO (roles) at parenthesis depth 0.
	var privs []string
	columnLevel := map[string]bool{}
	var cur []string
	depth := 0
	i := 1
	endPriv := func() {
		if len(cur) > 0 {
			privs = append(privs, strings.Join(cur, " "))
			cur = nil
		}
	}
	roleGrant := false
	for ; i < len(toks); i++ {
		t := toks[i]
		if depth > 0 {
			if t.text == ")" && t.kind == tokPunct {
				depth--
			}
			continue
		}
		if isWord(t, "ON") {
			break
		}
		if isWord(t, "TO") || isWord(t, "FROM") {
			roleGrant = true
			break
		}
		switch {
		case t.kind == tokPunct && t.text == ",":
			endPriv()
		case t.kind == tokPunct && t.text == "(":
			// SELECT (col1, col2): column-level only.
			if len(cur) > 0 {
				columnLevel[g.flavor.canonicalPriv(strings.Join(cur, " "))] = true
				cur = nil
			}
			depth++
		case t.kind == tokWord:
			cur = append(cur, t.text)
		case t.kind == tokIdent || t.kind == tokString || t.kind == tokPunct:
			// Role names: `role`@`host`.
			cur = append(cur, t.text)
		}
	}
	endPriv()
	if roleGrant {
		if !revoke {
			for _, r := range privs {
				g.Roles = append(g.Roles, strings.ReplaceAll(r, " @ ", "@"))
			}
		}
		return nil
	}
	if i >= len(toks) {
		return fmt.Errorf("no ON clause")
	}
	i++ // ON
	// Object type prefix: routine grants do not matter here.
	if i < len(toks) && (isWord(toks[i], "PROCEDURE") || isWord(toks[i], "FUNCTION") || isWord(toks[i], "PACKAGE")) {
		return nil
	}
	if i < len(toks) && isWord(toks[i], "TABLE") {
		i++
	}
	// PROXY ON ''@'%': nothing to do with data.
	if len(privs) == 1 && strings.EqualFold(privs[0], "PROXY") {
		return nil
	}
	readName := func() (string, bool, error) {
		if i >= len(toks) {
			return "", false, fmt.Errorf("missing object name")
		}
		t := toks[i]
		i++
		if t.kind == tokPunct && t.text == "*" {
			return "", true, nil
		}
		if t.kind == tokIdent || t.kind == tokWord {
			return t.text, false, nil
		}
		return "", false, fmt.Errorf("unexpected %q in object name", t.raw)
	}
	db, dbStar, err := readName()
	if err != nil {
		return err
	}
	if i >= len(toks) || toks[i].text != "." || toks[i].kind != tokPunct {
		// "ON *" (current database) or a bare name: not printed by SHOW GRANTS.
		return nil
	}
	i++
	table, tableStar, err := readName()
	if err != nil {
		return err
	}
	grantOption := false
	for j := i; j+2 < len(toks); j++ {
		if isWord(toks[j], "WITH") && isWord(toks[j+1], "GRANT") && isWord(toks[j+2], "OPTION") {
			grantOption = true
		}
	}
	set := map[string]bool{}
	for _, p := range privs {
		p = g.flavor.canonicalPriv(p)
		if p == "USAGE" || columnLevel[p] {
			continue
		}
		set[p] = true
	}
	if grantOption {
		set["GRANT OPTION"] = true
	}
	switch {
	case dbStar && tableStar:
		if revoke {
			for p := range set {
				delete(g.Global, p)
			}
			return nil
		}
		for p := range set {
			g.Global[p] = true
		}
		if set["GRANT OPTION"] {
			g.GlobalGrantOption = true
		}
	case tableStar:
		if revoke {
			g.Revoked = append(g.Revoked, DBGrant{Pattern: db, Privs: set})
			return nil
		}
		if len(set) > 0 {
			g.DB = append(g.DB, DBGrant{Pattern: db, Privs: set})
		}
	default:
		if revoke || len(set) == 0 {
			return nil
		}
		g.Table = append(g.Table, TableGrant{DB: db, Table: table, Privs: set})
	}
	return nil
}

// staticDBPrivs are the privileges ALL PRIVILEGES grants at database or table level.
var staticDBPrivs = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "CREATE": true, "DROP": true,
	"REFERENCES": true, "INDEX": true, "ALTER": true, "CREATE TEMPORARY TABLES": true,
	"LOCK TABLES": true, "EXECUTE": true, "CREATE VIEW": true, "SHOW VIEW": true,
	"CREATE ROUTINE": true, "ALTER ROUTINE": true, "EVENT": true, "TRIGGER": true,
	"DELETE HISTORY": true, "SHOW CREATE ROUTINE": true,
}

func (g Grants) eq(a, b string) bool {
	if g.CaseInsensitive {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func holds(set map[string]bool, p Priv, levelAll bool) bool {
	for _, n := range append([]string{p.Name}, p.Also...) {
		if set[n] {
			return true
		}
	}
	// ALL PRIVILEGES covers everything but GRANT OPTION (and PROXY).
	return set["ALL PRIVILEGES"] && p.Name != "GRANT OPTION" && (levelAll || staticDBPrivs[p.Name])
}

// HasGlobal reports a privilege granted ON *.*.
func (g Grants) HasGlobal(p Priv) bool {
	p.Name = g.flavor.canonicalPriv(p.Name)
	return holds(g.Global, p, true)
}

// Has reports whether the privilege applies to table (or, with table "", to the
// whole database db): granted globally (and not partially revoked on db), on a
// database pattern matching db, or on the table itself.
func (g Grants) Has(p Priv, db, table string) bool {
	p.Name = g.flavor.canonicalPriv(p.Name)
	if holds(g.Global, p, true) && !g.revoked(p, db) {
		return true
	}
	for _, d := range g.DB {
		if LikeMatch(d.Pattern, db, g.CaseInsensitive) && holds(d.Privs, p, false) {
			return true
		}
	}
	if table != "" {
		for _, t := range g.Table {
			if g.eq(t.DB, db) && g.eq(t.Table, table) && holds(t.Privs, p, false) {
				return true
			}
		}
	}
	return false
}

func (g Grants) revoked(p Priv, db string) bool {
	for _, r := range g.Revoked {
		// Partial revokes name databases literally (no wildcards).
		if g.eq(r.Pattern, db) && holds(r.Privs, p, false) {
			return true
		}
	}
	return false
}

// HasAnyOn reports whether any table-level grant in db carries the privilege (used
// to tell "no access to the database" from "access to some tables only").
func (g Grants) HasAnyOn(p Priv, db string) bool {
	if g.Has(p, db, "") {
		return true
	}
	for _, t := range g.Table {
		if g.eq(t.DB, db) && holds(t.Privs, p, false) {
			return true
		}
	}
	return false
}

// LikeMatch matches s against a SQL LIKE pattern as used in database-level grants:
// % is any sequence, _ any one character, backslash escapes the next character.
func LikeMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, t := []rune(pattern), []rune(s)
	var match func(pi, ti int) bool
	// memo keeps the backtracking linear in len(p)*len(t).
	memo := map[[2]int]bool{}
	match = func(pi, ti int) bool {
		key := [2]int{pi, ti}
		if v, ok := memo[key]; ok {
			return v
		}
		var r bool
		switch {
		case pi == len(p):
			r = ti == len(t)
		case p[pi] == '%':
			r = match(pi+1, ti) || (ti < len(t) && match(pi, ti+1))
		case p[pi] == '_':
			r = ti < len(t) && match(pi+1, ti+1)
		case p[pi] == '\\' && pi+1 < len(p):
			r = ti < len(t) && t[ti] == p[pi+1] && match(pi+2, ti+1)
		default:
			r = ti < len(t) && t[ti] == p[pi] && match(pi+1, ti+1)
		}
		memo[key] = r
		return r
	}
	return match(0, 0)
}
