package precheck

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// need is one privilege the migration needs on one object.
type need struct {
	priv  flavor.Priv
	db    string // "" = global (ON *.*)
	table string // "" = whole database
	why   string // the phase or feature that needs it
}

func (n need) target() string {
	switch {
	case n.db == "":
		return "*.*"
	case n.table == "":
		return plan.QuoteIdent(n.db) + ".*"
	}
	return plan.Name{DB: n.db, Table: n.table}.String()
}

// grantTarget is where the remedy grants it: table needs are granted on the
// database, which also covers tables created later.
func (n need) grantTarget() string {
	if n.db == "" {
		return "*.*"
	}
	return plan.QuoteIdent(n.db) + ".*"
}

func privs(names ...string) []flavor.Priv {
	out := make([]flavor.Priv, len(names))
	for i, n := range names {
		out[i] = flavor.Priv{Name: n}
	}
	return out
}

// sourceNeeds lists what the source account needs for the chosen types:
//   - schema: SELECT and SHOW VIEW on the selected databases (SHOW CREATE TABLE/VIEW);
//   - full: SELECT on every selected table;
//   - incremental: SELECT, plus REPLICATION SLAVE (read the binlog) and REPLICATION
//     CLIENT / BINLOG MONITOR (read the binlog position) globally;
//   - options.accounts: SELECT on the mysql schema (read accounts and their grants).
func sourceNeeds(f *Facts) []need {
	s, fl := f.Spec, f.Source.Flavor
	var out []need
	if s.Has(spec.TypeSchema) {
		for _, db := range f.Plan.SourceDatabases() {
			for _, p := range privs("SELECT", "SHOW VIEW") {
				out = append(out, need{p, db, "", "schema"})
			}
		}
	}
	if s.Has(spec.TypeFull) || s.Has(spec.TypeIncremental) {
		why := "full"
		if !s.Has(spec.TypeFull) {
			why = "incremental"
		}
		for _, t := range f.Plan.Tables {
			out = append(out, need{flavor.Priv{Name: "SELECT"}, t.Source.DB, t.Source.Table, why})
		}
		// information_schema lists only the tables an account can read, so a glob
		// silently skips the others: it needs SELECT on the whole database.
		for _, d := range f.Plan.Databases {
			if usesGlob(s.Objects[d.Object]) {
				out = append(out, need{flavor.Priv{Name: "SELECT"}, d.Source, "", why + "; a glob sees only the tables the account can read"})
			}
		}
	}
	if s.Has(spec.TypeIncremental) {
		out = append(out, need{fl.PrivReplicationSlave(), "", "", "incremental"}, need{fl.PrivBinlogMonitor(), "", "", "incremental"})
	}
	if s.Options.Accounts {
		out = append(out, need{flavor.Priv{Name: "SELECT"}, "mysql", "", "options.accounts"})
	}
	return out
}

// destinationNeeds lists what the destination account needs:
//   - schema: CREATE, ALTER, INDEX, DROP on each target database (create it and its
//     tables), TRIGGER when selected tables have triggers (options.triggers creates
//     them), REFERENCES when selected tables have foreign keys and the destination
//     enforces it (flavor.ForeignKeysNeedReferences: MySQL 5.7+);
//   - full: SELECT, INSERT, UPDATE, DELETE (read/write) on each target table;
//   - incremental: the same read/write, plus CREATE, ALTER, DROP, INDEX when DDL is
//     replicated (an entry without operations, or with ddl);
//   - options.accounts: CREATE USER and GRANT OPTION globally.
func destinationNeeds(f *Facts) []need {
	s := f.Spec
	var out []need
	dbs := f.Plan.DestDatabases()
	add := func(why string, names []string, db, table string) {
		for _, p := range privs(names...) {
			out = append(out, need{p, db, table, why})
		}
	}
	if s.Has(spec.TypeSchema) {
		var extra []string
		if hasTriggers(f) {
			extra = append(extra, "TRIGGER")
		}
		if f.Destination.Flavor.ForeignKeysNeedReferences() && hasForeignKeys(f) {
			extra = append(extra, "REFERENCES")
		}
		for _, db := range dbs {
			add("schema", append([]string{"CREATE", "ALTER", "INDEX", "DROP"}, extra...), db, "")
		}
	}
	rw := []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
	if s.Has(spec.TypeFull) || s.Has(spec.TypeIncremental) {
		why := "full"
		if !s.Has(spec.TypeFull) {
			why = "incremental"
		}
		for _, t := range f.Plan.Tables {
			add(why, rw, t.Dest.DB, t.Dest.Table)
		}
	}
	if s.Has(spec.TypeIncremental) {
		ddlDBs := []string{}
		for _, t := range f.Plan.Tables {
			if t.Entry.Allows(spec.OpDDL) && !slices.Contains(ddlDBs, t.Dest.DB) {
				ddlDBs = append(ddlDBs, t.Dest.DB)
			}
		}
		for _, db := range ddlDBs {
			add("incremental DDL", []string{"CREATE", "ALTER", "DROP", "INDEX"}, db, "")
		}
	}
	if s.Options.Accounts {
		add("options.accounts", []string{"CREATE USER", "GRANT OPTION"}, "", "")
	}
	return out
}

func usesGlob(o spec.Object) bool {
	if len(o.Tables) == 0 {
		return true
	}
	for _, t := range o.Tables {
		if t.IsGlob() {
			return true
		}
	}
	return false
}

func hasTriggers(f *Facts) bool {
	if f.Source.Catalog == nil {
		return false
	}
	sel := selectedSet(f.Plan)
	for _, tr := range f.Source.Catalog.Triggers {
		if _, ok := sel[plan.Name{DB: tr.DB, Table: tr.Table}]; ok {
			return true
		}
	}
	return false
}

func hasForeignKeys(f *Facts) bool {
	if f.Source.Catalog == nil {
		return false
	}
	sel := selectedSet(f.Plan)
	for _, fk := range f.Source.Catalog.ForeignKeys {
		if _, ok := sel[plan.Name{DB: fk.DB, Table: fk.Table}]; ok {
			return true
		}
	}
	return false
}

func checkSourcePrivileges(f *Facts) Item {
	return checkPrivileges(f.Source, f.Spec.Source, sourceNeeds(f))
}

func checkDestinationPrivileges(f *Facts) Item {
	return checkPrivileges(f.Destination, f.Spec.Destination, destinationNeeds(f))
}

func checkPrivileges(s *Server, ep spec.Endpoint, needs []need) Item {
	if s.GrantsError != "" {
		return warn(fmt.Sprintf("cannot read the %s account's privileges (SHOW GRANTS failed: %s): they are not checked", s.Role, s.GrantsError),
			"the account can always run SHOW GRANTS for itself; check the connection user")
	}
	g, err := s.Flavor.ParseGrants(s.Grants)
	if err != nil {
		return warn(fmt.Sprintf("cannot understand the %s account's privileges (%v): they are not checked", s.Role, err),
			"compare SHOW GRANTS with the list in docs/precheck.md by hand")
	}
	g.CaseInsensitive = s.LowerCaseTableNames() != 0

	// Group what is missing by privilege and reason for the message, and by grant
	// target for the remedy.
	type key struct{ priv, why string }
	var order []key
	objects := map[key][]string{}
	var targets []string
	grants := map[string][]string{}
	for _, n := range needs {
		ok := false
		if n.db == "" {
			ok = g.HasGlobal(n.priv)
		} else {
			ok = g.Has(n.priv, n.db, n.table)
		}
		if ok {
			continue
		}
		k := key{n.priv.Name, n.why}
		if _, seen := objects[k]; !seen {
			order = append(order, k)
		}
		if !slices.Contains(objects[k], n.target()) {
			objects[k] = append(objects[k], n.target())
		}
		gt := n.grantTarget()
		if _, seen := grants[gt]; !seen {
			targets = append(targets, gt)
		}
		if !slices.Contains(grants[gt], n.priv.Name) {
			grants[gt] = append(grants[gt], n.priv.Name)
		}
	}
	if len(order) == 0 {
		what := "nothing to check"
		if len(needs) > 0 {
			var names []string
			for _, n := range needs {
				if !slices.Contains(names, n.priv.Name) {
					names = append(names, n.priv.Name)
				}
			}
			what = strings.Join(names, ", ")
		}
		return pass(fmt.Sprintf("the %s account %s has the privileges the migration needs (%s)", s.Role, s.CurrentUser, what))
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s on %s (for %s)", k.priv, capList(objects[k]), k.why))
	}
	msg := fmt.Sprintf("the %s account %s lacks %s", s.Role, s.CurrentUser, strings.Join(parts, "; "))
	if len(g.Roles) > 0 {
		msg += fmt.Sprintf(" (it has roles %s: privileges of a role count only when the role is active at login, see SET DEFAULT ROLE)", strings.Join(g.Roles, ", "))
	}
	acct := account(s.CurrentUser, ep.User)
	var stmts []string
	for _, t := range targets {
		ps, suffix := grants[t], ""
		// GRANT OPTION is given with WITH GRANT OPTION, not by name.
		if i := slices.Index(ps, "GRANT OPTION"); i >= 0 {
			ps, suffix = slices.Delete(slices.Clone(ps), i, i+1), " WITH GRANT OPTION"
			if len(ps) == 0 {
				ps = []string{"USAGE"}
			}
		}
		stmts = append(stmts, fmt.Sprintf("GRANT %s ON %s TO %s%s;", strings.Join(ps, ", "), t, acct, suffix))
	}
	if len(stmts) > listCap {
		stmts = append(stmts[:listCap], fmt.Sprintf("(and %d more GRANT statements of the same form)", len(stmts)-listCap))
	}
	remedy := strings.Join(stmts, " ")
	return fail(msg, "as an administrator run: "+remedy)
}
