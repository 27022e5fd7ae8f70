package ddl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/sqltok"
)

// RewriteRoutine rewrites SHOW CREATE PROCEDURE/FUNCTION output ("Create
// Procedure" / "Create Function") of a routine of srcDB: DEFINER removed, SQL
// SECURITY INVOKER, the routine qualified with its database's destination name,
// and table references in its body rewritten (see RewriteRoutineWarnings for
// what is and is not rewritten).
func RewriteRoutine(srcDB, createSQL string, n Names) (string, error) {
	out, _, err := RewriteRoutineWarnings(srcDB, createSQL, n)
	return out, err
}

// RewriteTrigger rewrites SHOW CREATE TRIGGER's "SQL Original Statement" of a
// trigger of srcDB: DEFINER removed, the trigger and its table (ON `t`) named
// in the table's destination database, NEW.col / OLD.col mapped through the
// table's column renames, and table references in its body rewritten.
func RewriteTrigger(srcDB, createSQL string, n Names) (string, error) {
	out, _, err := RewriteTriggerWarnings(srcDB, createSQL, n)
	return out, err
}

// createHead is CREATE [OR REPLACE] [DEFINER = user] at the start of SHOW CREATE
// PROCEDURE/FUNCTION/TRIGGER output.
type createHead struct {
	next                   int // significant index after the head
	definerFrom, definerTo int // significant range of the DEFINER clause; -1 when absent
}

// tokenizeCreate tokenizes a routine or trigger statement and reads its head;
// statement names what it must be, for the error.
func tokenizeCreate(what, sql, statement string) (*stmt, createHead, error) {
	h := createHead{definerFrom: -1, definerTo: -1}
	s, err := tokenize(what, sql)
	if err != nil {
		return nil, h, err
	}
	if !s.tok(0).Is("CREATE") {
		return nil, h, fmt.Errorf("%s: not a %s statement", what, statement)
	}
	k := 1
	if s.tok(k).Is("OR") && s.tok(k+1).Is("REPLACE") {
		k += 2
	}
	if s.tok(k).Is("DEFINER") {
		h.definerFrom, h.definerTo = k, definerEnd(s, k)
		k = h.definerTo + 1
	}
	h.next = k
	return s, h, nil
}

func (h createHead) removeDefiner(s *stmt) {
	if h.definerFrom >= 0 {
		removeDefiner(s, h.definerFrom, h.definerTo)
	}
}

// definerHead are the words that may precede or surround the DEFINER clause of a
// CREATE statement as SHOW CREATE prints it (views put ALGORITHM before it).
var definerHead = map[string]bool{
	"OR": true, "REPLACE": true, "ALGORITHM": true, "UNDEFINED": true, "MERGE": true, "TEMPTABLE": true,
	"DEFINER": true, "SQL": true, "SECURITY": true, "INVOKER": true,
}

// StripDefiner removes the DEFINER = user[@host] clause (and the whitespace after
// it) from the head of a CREATE VIEW/PROCEDURE/FUNCTION/TRIGGER/EVENT statement, so
// a statement can be compared with what a server shows for it. Anything after the
// head (a body, a string that mentions DEFINER) is never touched; a statement
// without the clause comes back unchanged.
func StripDefiner(createSQL string) (string, error) {
	s, err := tokenize("strip DEFINER", createSQL)
	if err != nil {
		return "", err
	}
	if !s.tok(0).Is("CREATE") {
		return createSQL, nil
	}
	for k := 1; k < len(s.sig); k++ {
		t := s.tok(k)
		if t.Is("DEFINER") && !s.tok(k-1).Is("SECURITY") {
			removeDefiner(s, k, definerEnd(s, k))
			return s.String(), nil
		}
		if !t.IsOp("=") && !(t.Kind == sqltok.Word && definerHead[strings.ToUpper(t.Text)]) {
			break
		}
	}
	return createSQL, nil
}

// RewriteRoutineWarnings is RewriteRoutine that also returns warnings: the
// places a rename may be needed but is not applied. Rewritten in a body:
//   - tables in table positions (FROM, JOIN, UPDATE, INSERT/REPLACE [INTO],
//     DELETE ... FROM, TRUNCATE [TABLE]), qualified or not;
//   - `db`.`t`.`c`, and `q`.`c` where q is a table or alias of the same statement;
//   - the database of `db`.`routine`(...) calls.
//
// Not rewritten (warned about when a referenced table renames or excludes the
// name): unqualified column names (they may be local variables), and anything
// inside strings, such as dynamic SQL for PREPARE.
func RewriteRoutineWarnings(srcDB, createSQL string, n Names) (string, []string, error) {
	what := "routine in " + sqltok.Quote(srcDB)
	s, h, err := tokenizeCreate(what, createSQL, "CREATE PROCEDURE/FUNCTION")
	if err != nil {
		return "", nil, err
	}
	k := h.next
	if s.tok(k).Is("AGGREGATE") {
		k++
	}
	kind := strings.ToLower(s.tok(k).Text)
	if kind != "procedure" && kind != "function" {
		return "", nil, fmt.Errorf("%s: not a CREATE PROCEDURE/FUNCTION statement (%q)", what, s.tok(k).Text)
	}
	k++
	if s.tok(k).Is("IF") && s.tok(k+1).Is("NOT") && s.tok(k+2).Is("EXISTS") {
		k += 3
	}
	parts, after := s.qualified(k, 2)
	if len(parts) == 0 {
		return "", nil, fmt.Errorf("%s: no %s name", what, kind)
	}
	name := parts[len(parts)-1]
	if len(parts) == 2 && parts[0] != srcDB {
		return "", nil, fmt.Errorf("%s %s: qualified with another database %s", kind, sqltok.Quote(name), sqltok.Quote(parts[0]))
	}
	what = kind + " " + qualify(srcDB, name)
	home := n.Database(srcDB)
	s.replaceRange(k, after-1, qualify(home, name))
	if !s.tok(after).IsOp("(") {
		return "", nil, fmt.Errorf("%s: no parameter list", what)
	}
	headerEnd := s.matching(after)
	if headerEnd < 0 {
		return "", nil, fmt.Errorf("%s: unbalanced parentheses in the parameter list", what)
	}
	if kind == "function" {
		if !s.tok(headerEnd + 1).Is("RETURNS") {
			return "", nil, fmt.Errorf("%s: no RETURNS clause", what)
		}
		headerEnd = returnsEnd(s, headerEnd+1)
	}
	// SQL SECURITY: switch an existing characteristic, or add one after the header
	// (MariaDB omits it from SHOW CREATE when it is the default, DEFINER).
	security := -1
	for j := headerEnd + 1; j+2 < len(s.sig) && isCharacteristic(s, j); j++ {
		if s.tok(j).Is("SQL") && s.tok(j+1).Is("SECURITY") {
			security = j + 2
			break
		}
	}
	b := &bodyRW{s: s, srcDB: srcDB, home: home, n: n, what: what}
	b.run(headerEnd + 1)
	if err := b.deps.err(); err != nil {
		return "", nil, err
	}
	if security >= 0 {
		if !s.tok(security).Is("INVOKER") {
			s.set(security, "INVOKER")
		}
	} else {
		s.set(headerEnd, s.tok(headerEnd).Text+"\n    SQL SECURITY INVOKER")
	}
	h.removeDefiner(s)
	return s.String(), b.warnings, nil
}

// isCharacteristic: j starts (or continues) a routine characteristic.
func isCharacteristic(s *stmt, j int) bool {
	t := s.tok(j)
	if t.Kind == sqltok.String {
		return s.tok(j - 1).Is("COMMENT")
	}
	for _, w := range []string{"LANGUAGE", "SQL", "NOT", "DETERMINISTIC", "CONTAINS", "NO", "READS", "MODIFIES", "DATA", "SECURITY", "DEFINER", "INVOKER", "COMMENT"} {
		if t.Is(w) {
			return true
		}
	}
	return false
}

// returnsEnd returns the last significant index of the type after RETURNS at k.
// MariaDB prints the header's RETURNS type on the first line and each
// characteristic on its own line, so the type ends at the first line break;
// without one, the type is a word, an optional (...) and known modifiers.
func returnsEnd(s *stmt, k int) int {
	for i := s.sig[k] + 1; i < len(s.toks); i++ {
		if s.toks[i].Kind == sqltok.Space && strings.Contains(s.toks[i].Text, "\n") {
			for j := len(s.sig) - 1; j > k; j-- {
				if s.sig[j] < i {
					return j
				}
			}
			break
		}
	}
	j := k + 1
	for {
		switch {
		case s.tok(j + 1).IsOp("("):
			j = s.matching(j + 1)
		case s.tok(j+1).Is("UNSIGNED") || s.tok(j+1).Is("SIGNED") || s.tok(j+1).Is("ZEROFILL") || s.tok(j+1).Is("PRECISION") ||
			s.tok(j+1).Is("VARYING") || s.tok(j+1).Is("BINARY") || s.tok(j+1).Is("ASCII") || s.tok(j+1).Is("UNICODE"):
			j++
		case s.tok(j+1).Is("CHARSET") || s.tok(j+1).Is("COLLATE"):
			j += 2
		case s.tok(j+1).Is("CHARACTER") && s.tok(j+2).Is("SET"):
			j += 3
		default:
			return j
		}
	}
}

// RewriteTriggerWarnings is RewriteTrigger that also returns warnings (see
// RewriteRoutineWarnings for what bodies get).
func RewriteTriggerWarnings(srcDB, createSQL string, n Names) (string, []string, error) {
	what := "trigger in " + sqltok.Quote(srcDB)
	s, h, err := tokenizeCreate(what, createSQL, "CREATE TRIGGER")
	if err != nil {
		return "", nil, err
	}
	k := h.next
	if !s.tok(k).Is("TRIGGER") {
		return "", nil, fmt.Errorf("%s: not a CREATE TRIGGER statement", what)
	}
	k++
	if s.tok(k).Is("IF") && s.tok(k+1).Is("NOT") && s.tok(k+2).Is("EXISTS") {
		k += 3
	}
	parts, after := s.qualified(k, 2)
	if len(parts) == 0 {
		return "", nil, fmt.Errorf("%s: no trigger name", what)
	}
	name := parts[len(parts)-1]
	what = "trigger " + qualify(srcDB, name)
	nameFrom, nameTo := k, after-1
	on := s.findWord(after, "ON")
	if on < 0 {
		return "", nil, fmt.Errorf("%s: no ON clause", what)
	}
	tparts, tafter := s.qualified(on+1, 2)
	if len(tparts) == 0 {
		return "", nil, fmt.Errorf("%s: no table after ON", what)
	}
	tdb, table := srcDB, tparts[len(tparts)-1]
	if len(tparts) == 2 {
		tdb = tparts[0]
	}
	dstDB, dstTable, ok := n.Table(tdb, table)
	if !ok {
		return "", nil, fmt.Errorf("%s: its table %s is not selected for the migration", what, qualify(tdb, table))
	}
	// A trigger lives in its table's database.
	s.replaceRange(nameFrom, nameTo, qualify(dstDB, name))
	s.replaceRange(on+1, tafter-1, qualify(dstDB, dstTable))
	body := tafter
	for body < len(s.sig) && !(s.tok(body).Is("ROW") && s.tok(body-1).Is("EACH")) {
		body++
	}
	body++
	if (s.tok(body).Is("FOLLOWS") || s.tok(body).Is("PRECEDES")) && s.isName(body+1) {
		_, body = s.qualified(body+1, 2)
	}
	b := &bodyRW{s: s, srcDB: srcDB, home: dstDB, n: n, what: what, trigger: &source{db: tdb, table: table}}
	b.run(body)
	if err := b.deps.err(); err != nil {
		return "", nil, err
	}
	h.removeDefiner(s)
	return s.String(), b.warnings, nil
}

// bodyRW rewrites the statements of a routine or trigger body.
type bodyRW struct {
	s        *stmt
	srcDB    string // unqualified names resolve in the object's own database
	home     string // the destination database the object is created in
	n        Names
	what     string
	trigger  *source // the trigger's table, for NEW and OLD
	warnings []string
	warned   map[string]bool
	deps     depErrs
}

func (b *bodyRW) warn(format string, args ...any) {
	w := fmt.Sprintf(b.what+": "+format, args...)
	if b.warned == nil {
		b.warned = map[string]bool{}
	}
	if !b.warned[w] {
		b.warned[w] = true
		b.warnings = append(b.warnings, w)
	}
}

// run rewrites from significant index from to the end, statement by statement
// (split on ;), so aliases are resolved within their statement.
func (b *bodyRW) run(from int) {
	s := b.s
	start := from
	for k := from; k <= len(s.sig); k++ {
		if k == len(s.sig) || s.tok(k).IsOp(";") {
			if start < k {
				b.statement(start, k-1)
			}
			start = k + 1
		}
	}
	sort.Strings(b.warnings)
}

type bodyTable struct {
	from, to  int
	db, table string
}

// statement rewrites one statement (significant indexes from..to).
func (b *bodyRW) statement(from, to int) {
	s := b.s
	var sites []bodyTable
	aliases := map[string][]source{}
	addAlias := func(name string, src source) {
		key := strings.ToLower(name)
		for _, o := range aliases[key] {
			if o == src {
				return
			}
		}
		aliases[key] = append(aliases[key], src)
	}
	site := map[int]bool{}
	aliasAt := map[int]bool{}
	// tableAt reads a table name at k, with an optional alias; returns the next index.
	tableAt := func(k int) int {
		if !b.s.isName(k) || s.tok(k).Kind == sqltok.Word && (clauseEnd[strings.ToUpper(s.tok(k).Text)] || s.tok(k).Is("SELECT") || s.tok(k).Is("SET") || s.tok(k).Is("VALUES") || s.tok(k).Is("DUAL")) {
			return k
		}
		parts, after := s.qualified(k, 2)
		t := bodyTable{from: k, to: after - 1, db: b.srcDB, table: parts[len(parts)-1]}
		if len(parts) == 2 {
			t.db = parts[0]
		}
		sites = append(sites, t)
		for j := k; j < after; j++ {
			site[j] = true
		}
		src := source{db: t.db, table: t.table}
		addAlias(t.table, src)
		j := after
		if s.tok(j).Is("AS") {
			j++
		}
		if tk := s.tok(j); j <= to && (tk.Kind == sqltok.Ident || tk.Kind == sqltok.Word && !clauseEnd[strings.ToUpper(tk.Text)] &&
			!tk.Is("SET") && !tk.Is("VALUES") && !tk.Is("SELECT") && !tk.Is("PARTITION") && !tk.Is("FOR") && !tk.Is("AS")) {
			if !tk.IsOp("(") {
				aliasAt[j] = true
				addAlias(s.name(j), src)
				return j + 1
			}
		}
		return after
	}
	f := newFromLists()
	for k := from; k <= to; k++ {
		t := s.tok(k)
		if next, ok := f.step(s, k, tableAt); ok {
			k = next
			continue
		}
		switch {
		case t.Is("UPDATE") && !s.tok(k-1).Is("ON") && !s.tok(k-1).Is("DUPLICATE"):
			j := k + 1
			for s.tok(j).Is("LOW_PRIORITY") || s.tok(j).Is("IGNORE") {
				j++
			}
			f.setIn(true) // UPDATE a, b SET ...: the list ends at SET
			k = tableAt(j) - 1
		case (t.Is("INSERT") || t.Is("REPLACE")) && !s.tok(k+1).IsOp("("):
			j := k + 1
			for s.tok(j).Is("LOW_PRIORITY") || s.tok(j).Is("DELAYED") || s.tok(j).Is("HIGH_PRIORITY") || s.tok(j).Is("IGNORE") || s.tok(j).Is("INTO") {
				j++
			}
			next := tableAt(j)
			if next > j && s.tok(next).IsOp("(") && len(sites) > 0 {
				// INSERT INTO t (cols): the list names columns of t.
				t := sites[len(sites)-1]
				closing := s.matching(next)
				for c := next + 1; c < closing; c++ {
					if s.isName(c) && !s.tok(c+1).IsOp(".") {
						b.column(c, source{db: t.db, table: t.table})
						site[c] = true
					}
				}
			}
			k = next - 1
		case t.Is("CALL"):
			// CALL `db`.`p` [(...)]: only the database can be renamed.
			if parts, after := s.qualified(k+1, 2); len(parts) == 2 {
				if d := b.n.Database(parts[0]); d != parts[0] {
					s.set(k+1, sqltok.Quote(d))
				}
				for j := k + 1; j < after; j++ {
					site[j] = true
				}
			}
		case t.Is("TRUNCATE"):
			j := k + 1
			if s.tok(j).Is("TABLE") {
				j++
			}
			k = tableAt(j) - 1
		case t.Is("SET") || (t.Kind == sqltok.Word && clauseEnd[strings.ToUpper(t.Text)]):
			f.setIn(false)
		}
	}
	// Column references and qualified calls.
	for k := from; k <= to; k++ {
		if site[k] || aliasAt[k] || !s.isName(k) || s.tok(k-1).IsOp(".") {
			continue
		}
		parts, after := s.qualified(k, 3)
		if len(parts) == 1 {
			b.unqualified(k, sites)
			continue
		}
		if s.tok(after).IsOp("(") && len(parts) == 2 {
			// `db`.`routine`(...): only the database can be renamed.
			if d := b.n.Database(parts[0]); d != parts[0] {
				s.set(k, sqltok.Quote(d))
			}
			k = after - 1
			continue
		}
		var src source
		qualifierIsTable := false
		switch {
		case len(parts) == 3:
			src, qualifierIsTable = source{db: parts[0], table: parts[1]}, true
		case b.trigger != nil && (strings.EqualFold(parts[0], "NEW") || strings.EqualFold(parts[0], "OLD")) && s.tok(k).Kind == sqltok.Word:
			src = *b.trigger
		default:
			cands := aliases[strings.ToLower(parts[0])]
			if len(cands) != 1 {
				if len(cands) > 1 {
					b.warn("qualifier %s stands for several tables; its columns are not renamed", sqltok.Quote(parts[0]))
				}
				k = after - 1
				continue
			}
			src = cands[0]
			qualifierIsTable = strings.EqualFold(src.table, parts[0])
			if qualifierIsTable {
				if _, isAlias := aliasFor(aliasAt, s, parts[0]); isAlias {
					qualifierIsTable = false
				}
			}
		}
		col := parts[len(parts)-1]
		dst, excluded := b.n.Column(src.db, src.table, col)
		if excluded {
			b.deps.add(&DependencyError{Database: src.db, Table: src.table, Column: col, Dependent: b.what})
			k = after - 1
			continue
		}
		if dst != col {
			s.set(after-1, sqltok.Quote(dst))
		}
		if qualifierIsTable {
			if len(parts) == 3 {
				s.replaceRange(k, k+2, b.tableRef(src.db, src.table, true))
			} else if ref := b.tableRef(src.db, src.table, false); ref != s.tok(k).Text && ref != sqltok.Quote(parts[0]) {
				s.set(k, ref)
			}
		}
		k = after - 1
	}
	for _, t := range sites {
		ref := b.tableRef(t.db, t.table, t.to > t.from)
		if ref != s.text(t.from, t.to) && !(t.from == t.to && ref == sqltok.Quote(t.table)) {
			s.replaceRange(t.from, t.to, ref)
		}
	}
}

// column renames the bare column name at k of table src.
func (b *bodyRW) column(k int, src source) {
	col := b.s.name(k)
	dst, excluded := b.n.Column(src.db, src.table, col)
	if excluded {
		b.deps.add(&DependencyError{Database: src.db, Table: src.table, Column: col, Dependent: b.what})
		return
	}
	if dst != col {
		b.s.set(k, sqltok.Quote(dst))
	}
}

// aliasFor reports whether name is defined as an alias in the statement.
func aliasFor(aliasAt map[int]bool, s *stmt, name string) (int, bool) {
	for k := range aliasAt {
		if strings.EqualFold(s.name(k), name) {
			return k, true
		}
	}
	return 0, false
}

// tableRef is the destination reference to a table of the body: qualified when
// it was, or when it now lives in another database than the object.
func (b *bodyRW) tableRef(db, table string, qualified bool) string {
	d, t, ok := b.n.Table(db, table)
	if !ok {
		d, t = b.n.Database(db), table
	}
	if qualified || d != b.home {
		return qualify(d, t)
	}
	return sqltok.Quote(t)
}

// unqualified warns when a bare name is a column that a table of the statement
// renames or excludes: it is not rewritten (it may be a variable or parameter).
func (b *bodyRW) unqualified(k int, sites []bodyTable) {
	name := b.s.name(k)
	if b.s.tok(k).Kind == sqltok.Word && reserved[strings.ToUpper(name)] {
		return // a keyword: a column with this name must be backquoted
	}
	tables := sites
	if b.trigger != nil {
		tables = append(tables, bodyTable{db: b.trigger.db, table: b.trigger.table})
	}
	for _, t := range tables {
		if _, _, ok := b.n.Table(t.db, t.table); !ok {
			continue
		}
		dst, excluded := b.n.Column(t.db, t.table, name)
		switch {
		case excluded:
			b.warn("mentions %s, an excluded column of %s; unqualified column names in bodies are not rewritten", sqltok.Quote(name), qualify(t.db, t.table))
		case dst != name:
			b.warn("mentions %s, which %s renames to %s; unqualified column names in bodies are not rewritten", sqltok.Quote(name), qualify(t.db, t.table), sqltok.Quote(dst))
		}
	}
}

// reserved are MariaDB's reserved words (an unquoted one is never a column name).
var reserved = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`ACCESSIBLE ADD ALL ALTER ANALYZE AND AS ASC ASENSITIVE BEFORE BETWEEN BIGINT BINARY BLOB BOTH BY
CALL CASCADE CASE CHANGE CHAR CHARACTER CHECK COLLATE COLUMN CONDITION CONSTRAINT CONTINUE CONVERT CREATE CROSS
CURRENT_DATE CURRENT_ROLE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DATABASES DAY_HOUR
DAY_MICROSECOND DAY_MINUTE DAY_SECOND DEC DECIMAL DECLARE DEFAULT DELAYED DELETE DELETE_DOMAIN_ID DESC DESCRIBE
DETERMINISTIC DISTINCT DISTINCTROW DIV DO_DOMAIN_IDS DOUBLE DROP DUAL EACH ELSE ELSEIF ENCLOSED ESCAPED EXCEPT EXISTS
EXIT EXPLAIN FALSE FETCH FLOAT FLOAT4 FLOAT8 FOR FORCE FOREIGN FROM FULLTEXT GENERAL GRANT GROUP HAVING
HIGH_PRIORITY HOUR_MICROSECOND HOUR_MINUTE HOUR_SECOND IF IGNORE IGNORE_DOMAIN_IDS IGNORE_SERVER_IDS IN INDEX INFILE
INNER INOUT INSENSITIVE INSERT INT INT1 INT2 INT3 INT4 INT8 INTEGER INTERSECT INTERVAL INTO IS ITERATE JOIN KEY KEYS
KILL LEADING LEAVE LEFT LIKE LIMIT LINEAR LINES LOAD LOCALTIME LOCALTIMESTAMP LOCK LONG LONGBLOB LONGTEXT LOOP
LOW_PRIORITY MASTER_HEARTBEAT_PERIOD MASTER_SSL_VERIFY_SERVER_CERT MATCH MAXVALUE MEDIUMBLOB MEDIUMINT MEDIUMTEXT
MIDDLEINT MINUTE_MICROSECOND MINUTE_SECOND MOD MODIFIES NATURAL NOT NO_WRITE_TO_BINLOG NULL NUMERIC OFFSET ON OPTIMIZE
OPTION OPTIONALLY OR ORDER OUT OUTER OUTFILE OVER PAGE_CHECKSUM PARSE_VCOL_EXPR PARTITION POSITION PRECISION PRIMARY
PROCEDURE PURGE RANGE READ READS READ_WRITE REAL RECURSIVE REF_SYSTEM_ID REFERENCES REGEXP RELEASE RENAME REPEAT
REPLACE REQUIRE RESIGNAL RESTRICT RETURN RETURNING REVOKE RIGHT RLIKE ROW_NUMBER ROWS SCHEMA SCHEMAS SECOND_MICROSECOND
SELECT SENSITIVE SEPARATOR SET SHOW SIGNAL SLOW SMALLINT SPATIAL SPECIFIC SQL SQLEXCEPTION SQLSTATE SQLWARNING
SQL_BIG_RESULT SQL_CALC_FOUND_ROWS SQL_SMALL_RESULT SSL STARTING STATS_AUTO_RECALC STATS_PERSISTENT
STATS_SAMPLE_PAGES STRAIGHT_JOIN TABLE TERMINATED THEN TINYBLOB TINYINT TINYTEXT TO TRAILING TRIGGER TRUE UNDO UNION
UNIQUE UNLOCK UNSIGNED UPDATE USAGE USE USING UTC_DATE UTC_TIME UTC_TIMESTAMP VALUES VARBINARY VARCHAR VARCHARACTER
VARYING WHEN WHERE WHILE WINDOW WITH WRITE XOR YEAR_MONTH ZEROFILL`) {
		m[w] = true
	}
	return m
}()
