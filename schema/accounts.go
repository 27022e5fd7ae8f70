package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/ddl"
	"github.com/sluice-dev/sluice/sqltok"
)

// Account is a user account, user@host.
type Account struct {
	User string `json:"user"`
	Host string `json:"host"`
}

// String quotes the account as SQL writes it: 'user'@'host'.
func (a Account) String() string {
	return sqltok.QuoteString(a.User) + "@" + sqltok.QuoteString(a.Host)
}

// SkippedAccount is an account that is not migrated, and why.
// Reasons an account is skipped that the report need not repeat: nobody expects
// these to be migrated.
const (
	ReasonSystem = "system account"
	ReasonSluice = "used by sluice"
)

type SkippedAccount struct {
	Account
	Reason string `json:"reason"`
}

// Accounts is the outcome of ListAccounts.
type Accounts struct {
	Migrate []Account        `json:"migrate"`
	Skipped []SkippedAccount `json:"skipped,omitempty"`
}

// systemUsers are the servers' own accounts (both flavors): never migrated.
var systemUsers = []string{"root", "mariadb.sys", "mysql.sys", "mysql.session", "mysql.infoschema", "debian-sys-maint", "PUBLIC"}

// ListAccounts lists the source accounts to migrate: all of mysql.user except the
// servers' own accounts, anonymous accounts, roles, the accounts sluice itself uses
// (the connections' CURRENT_USER() and the user names in exclude), and accounts the
// destination already has. The skipped ones are listed with the reason.
func ListAccounts(ctx context.Context, src, dst *sql.DB, exclude ...string) (Accounts, error) {
	var out Accounts
	fl, err := dbconn.Flavor(ctx, src)
	if err != nil {
		return out, fmt.Errorf("list accounts: source: %w", err)
	}
	dfl, err := dbconn.Flavor(ctx, dst)
	if err != nil {
		return out, fmt.Errorf("list accounts: destination: %w", err)
	}
	for _, db := range []*sql.DB{src, dst} {
		var cur string
		if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&cur); err != nil {
			return out, fmt.Errorf("list accounts: CURRENT_USER(): %w", err)
		}
		if i := strings.LastIndexByte(cur, '@'); i >= 0 {
			exclude = append(exclude, cur[:i])
		}
	}
	existing := map[Account]bool{}
	err = queryRows(ctx, dst, dfl.AccountsQuery(), nil, func(r *sql.Rows) error {
		var a Account
		var role string
		if err := r.Scan(&a.User, &a.Host, &role); err != nil {
			return err
		}
		existing[a] = true
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("list accounts: read the destination's mysql.user: %w", err)
	}
	err = queryRows(ctx, src, fl.AccountsQuery()+" ORDER BY 1, 2", nil, func(r *sql.Rows) error {
		var a Account
		var role string
		if err := r.Scan(&a.User, &a.Host, &role); err != nil {
			return err
		}
		switch {
		case a.User == "":
			out.Skipped = append(out.Skipped, SkippedAccount{a, "anonymous account"})
		case strings.EqualFold(role, "Y"):
			out.Skipped = append(out.Skipped, SkippedAccount{a, "role (roles are not migrated)"})
		case slices.Contains(systemUsers, a.User):
			out.Skipped = append(out.Skipped, SkippedAccount{a, ReasonSystem})
		case slices.Contains(exclude, a.User):
			out.Skipped = append(out.Skipped, SkippedAccount{a, ReasonSluice})
		case existing[a]:
			out.Skipped = append(out.Skipped, SkippedAccount{a, "exists on the destination"})
		default:
			out.Migrate = append(out.Migrate, a)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("list accounts: read the source's mysql.user: %w", err)
	}
	return out, nil
}

// ApplyAccount creates an account on the destination as the source has it (SHOW
// CREATE USER: authentication, password hash, TLS requirements, limits) and gives it
// the source's grants (SHOW GRANTS), with renamed databases and tables. Grants on
// tables, columns or routines that are not migrated are skipped with a warning; so
// are role grants.
//
// CREATE USER carries the password hash: it never leaves this function (not in the
// result, not in an error). It runs only when the account is missing, and GRANT is
// idempotent, so a second run finishes what a crashed one started.
func ApplyAccount(ctx context.Context, src, dst *sql.DB, a Account, n ddl.Names) (Result, error) {
	obj := "account " + a.String()
	var create string
	if err := src.QueryRowContext(ctx, "SHOW CREATE USER "+a.String()).Scan(&create); err != nil {
		return Result{}, fmt.Errorf("apply %s: SHOW CREATE USER on the source: %w", obj, safeErr(err))
	}
	var grants []string
	err := queryRows(ctx, src, "SHOW GRANTS FOR "+a.String(), nil, func(r *sql.Rows) error {
		var g string
		if err := r.Scan(&g); err != nil {
			return err
		}
		grants = append(grants, g)
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: SHOW GRANTS on the source: %w", obj, safeErr(err))
	}

	res := Result{Object: obj, Action: Exists}
	var exists int
	err = dst.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", a.User, a.Host).Scan(&exists)
	if err != nil {
		return Result{}, fmt.Errorf("apply %s: read the destination's mysql.user: %w", obj, err)
	}
	if exists == 0 {
		if _, err := dst.ExecContext(ctx, create); err != nil {
			// Never the statement: it holds the password hash.
			return Result{}, fmt.Errorf("apply %s: CREATE USER (statement not shown: it holds the password hash): %w", obj, safeErr(err))
		}
		res.Action = Created
	}

	var applied []string
	for _, line := range grants {
		stmt, warn, err := rewriteGrant(ctx, dst, line, n)
		if err != nil {
			return Result{}, fmt.Errorf("apply %s: %s: %w", obj, redactGrant(line), err)
		}
		if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
		if stmt == "" {
			continue
		}
		if _, err := dst.ExecContext(ctx, stmt); err != nil {
			return Result{}, fmt.Errorf("apply %s: %w: %s", obj, safeErr(err), stmt)
		}
		applied = append(applied, stmt)
	}
	res.Statement = strings.Join(applied, ";\n")
	return res, nil
}

// safeErr keeps a server error's number and a message that cannot quote a secret:
// the server's own text may echo part of the statement ("near '…'"), so a syntax
// error is reduced to its number.
func safeErr(err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1064 {
		// Shaped like the driver's own message, without the statement's text (it may
		// hold a password hash).
		return fmt.Errorf("error %d (%s): syntax error", me.Number, string(me.SQLState[:]))
	}
	return err
}

// redactGrant shows a SHOW GRANTS line up to its TO: what follows may hold a password
// hash (MariaDB prints IDENTIFIED BY PASSWORD '…' there).
func redactGrant(line string) string {
	toks, err := sqltok.Tokenize(line)
	if err != nil {
		return "(unreadable grant)"
	}
	for _, t := range toks {
		if t.Is("TO") {
			return line[:t.End()] + " …"
		}
	}
	return "(grant without TO)"
}

// grantTail ends an IDENTIFIED clause of a SHOW GRANTS line: WITH GRANT OPTION,
// resource limits and REQUIRE.
func grantTail(toks []sqltok.Token, i int) bool {
	if toks[i].Is("REQUIRE") {
		return true
	}
	if !toks[i].Is("WITH") || i+1 >= len(toks) {
		return false
	}
	next := strings.ToUpper(toks[i+1].Text)
	return next == "GRANT" || strings.HasPrefix(next, "MAX_")
}

// rewriteGrant turns a SHOW GRANTS line into the GRANT to run on the destination:
// the IDENTIFIED clause dropped (CREATE USER set the authentication), the target
// renamed (`db`.*, `db`.`table`, PROCEDURE/FUNCTION `db`.`name`) and column names of
// column privileges renamed. It returns "" and a warning for a grant that cannot or
// should not be applied.
func rewriteGrant(ctx context.Context, dst *sql.DB, line string, n ddl.Names) (stmt, warning string, err error) {
	toks, err := code(line)
	if err != nil {
		return "", "", errors.New("cannot tokenize the grant")
	}
	if len(toks) == 0 {
		return "", "", nil
	}
	if !toks[0].Is("GRANT") {
		// SET DEFAULT ROLE … and the like: roles are not migrated.
		return "", "skipped " + redactGrant(line) + ": roles are not migrated", nil
	}
	on, to := -1, -1
	for i, t := range toks {
		if t.Is("ON") && on < 0 && to < 0 {
			on = i
		}
		if t.Is("TO") {
			to = i
			break
		}
	}
	if to < 0 {
		return "", "", errors.New("no TO in the grant")
	}
	if on < 0 {
		return "", "skipped " + redactGrant(line) + ": roles are not migrated", nil
	}

	var edits []edit

	// Drop IDENTIFIED … up to the tail.
	for i := to + 1; i < len(toks); i++ {
		if !toks[i].Is("IDENTIFIED") {
			continue
		}
		end := len(line)
		for j := i + 2; j < len(toks); j++ {
			if grantTail(toks, j) {
				end = toks[j].Pos
				break
			}
		}
		edits = append(edits, edit{toks[i].Pos, end, ""})
		break
	}

	// The target: [TABLE|PROCEDURE|FUNCTION|PACKAGE [BODY]] db.name | db.* | *.* | PROXY targets.
	i := on + 1
	kind := "TABLE"
	if i < to && toks[i].Kind == sqltok.Word && !toks[i].Is("*") {
		switch w := strings.ToUpper(toks[i].Text); w {
		case "TABLE", "PROCEDURE", "FUNCTION", "PACKAGE":
			kind = w
			i++
			if w == "PACKAGE" && i < to && toks[i].Is("BODY") {
				i++
			}
		}
	}
	if toks[1].Is("PROXY") {
		return applyEdits(line, edits), "", nil
	}
	parts := targetParts(toks[i:to])
	if len(parts) != 2 || parts[0].IsOp("*") {
		// *.* or a target naming no database: nothing to rename.
		return applyEdits(line, edits), "", nil
	}
	dbTok, objTok := parts[0], parts[1]
	dbName, objName := tokenName(dbTok), tokenName(objTok)
	srcDB, isPattern := unescapeDBPattern(dbName)
	if objTok.IsOp("*") {
		if isPattern {
			return applyEdits(line, edits), "", nil // a wildcard grant (`app\_%`.*) is kept as written
		}
		destDB := n.Database(srcDB)
		if dbTok.Kind == sqltok.Ident && strings.Contains(dbName, `\`) {
			destDB = escapeDBPattern(destDB)
		}
		edits = append(edits, edit{dbTok.Pos, dbTok.End(), sqltok.Quote(destDB)})
		return applyEdits(line, edits), "", nil
	}
	srcDB = dbName
	switch kind {
	case "TABLE":
		ddb, dtbl, ok := n.Table(srcDB, objName)
		if !ok {
			return "", "skipped " + redactGrant(line) + ": the table is not migrated", nil
		}
		edits = append(edits, edit{dbTok.Pos, objTok.End(), sqltok.Quote(ddb) + "." + sqltok.Quote(dtbl)})
		// Column privileges: SELECT (`a`, `b`), … before ON.
		for j := 1; j < on; j++ {
			if toks[j].Kind != sqltok.Ident {
				continue
			}
			col, excluded := n.Column(srcDB, objName, tokenName(toks[j]))
			if excluded {
				return "", "skipped " + redactGrant(line) + ": it names an excluded column", nil
			}
			edits = append(edits, edit{toks[j].Pos, toks[j].End(), sqltok.Quote(col)})
		}
	default:
		ddb := n.Database(srcDB)
		var found int
		err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.ROUTINES
			WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ? AND ROUTINE_TYPE = ?`, ddb, objName, kind).Scan(&found)
		if err != nil {
			return "", "", fmt.Errorf("read the destination's routines: %w", err)
		}
		if found == 0 {
			return "", "skipped " + redactGrant(line) + ": the " + strings.ToLower(kind) + " is not on the destination", nil
		}
		edits = append(edits, edit{dbTok.Pos, dbTok.End(), sqltok.Quote(ddb)})
	}
	return applyEdits(line, edits), "", nil
}

// targetParts splits `db`.`name` (or `db`.*) into its two parts; anything else
// yields one part or none.
func targetParts(toks []sqltok.Token) []sqltok.Token {
	if len(toks) == 3 && toks[1].IsOp(".") {
		return []sqltok.Token{toks[0], toks[2]}
	}
	if len(toks) == 1 {
		return toks
	}
	return nil
}

// tokenName is the name a Word or Ident token stands for, or the token's text.
func tokenName(t sqltok.Token) string {
	if name, ok := t.Name(); ok {
		return name
	}
	return t.Text
}

// unescapeDBPattern reads a database name of a grant: `_` and `%` are wildcards there
// unless escaped with a backslash. isPattern says the name has an unescaped `%`: an
// unescaped `_` is taken literally (people write GRANT … ON my_app.* meaning my_app).
func unescapeDBPattern(s string) (name string, isPattern bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i++
		case s[i] == '%':
			isPattern = true
			b.WriteByte(s[i])
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), isPattern
}

func escapeDBPattern(s string) string {
	return strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`).Replace(s)
}

// edit replaces line[start:end] with repl.
type edit struct {
	start, end int
	repl       string
}

// applyEdits applies non-overlapping edits.
func applyEdits(s string, edits []edit) string {
	sorted := slices.Clone(edits)
	slices.SortFunc(sorted, func(a, b edit) int { return a.start - b.start })
	var b strings.Builder
	pos := 0
	for _, e := range sorted {
		b.WriteString(s[pos:e.start])
		b.WriteString(e.repl)
		pos = e.end
	}
	b.WriteString(s[pos:])
	return b.String()
}
