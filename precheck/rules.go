package precheck

import (
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/spec"
)

// rule is one precheck item: whether it applies to the chosen types, which servers
// it needs, and the check itself.
type rule struct {
	id    string
	needs needs
	// applies says whether the item belongs to this migration (types, options).
	applies func(f *Facts) bool
	check   func(f *Facts) Item
}

type needs int

const (
	needNothing needs = 0
	needSource  needs = 1 << iota
	needDestination
	needPlan // the source catalog and the resolved selection
)

// rules run in this order (the order of AllIDs).
var rules = []rule{
	{IDSourceConnect, needNothing, always, func(f *Facts) Item { return checkConnect(IDSourceConnect, f.Source, f.Spec.Source) }},
	{IDDestinationConnect, needNothing, always, func(f *Facts) Item {
		return checkConnect(IDDestinationConnect, f.Destination, f.Spec.Destination)
	}},
	{IDSourceVersion, needSource, always, func(f *Facts) Item { return checkVersion(IDSourceVersion, f.Source) }},
	{IDDestinationVersion, needDestination, always, func(f *Facts) Item { return checkVersion(IDDestinationVersion, f.Destination) }},
	{IDVersionDifference, needSource | needDestination, always, checkVersionDifference},
	{IDSourcePrivileges, needSource | needPlan, always, checkSourcePrivileges},
	{IDDestinationPrivileges, needDestination | needPlan, always, checkDestinationPrivileges},
	{IDLogBin, needSource, incremental, checkLogBin},
	{IDBinlogFormat, needSource, incremental, checkBinlogFormat},
	{IDBinlogRowImage, needSource, incremental, checkBinlogRowImage},
	{IDBinlogRowMetadata, needSource, incremental, checkBinlogRowMetadata},
	{IDBinlogRowValueOptions, needSource, incremental, checkBinlogRowValueOptions},
	{IDBinlogRetention, needSource, incremental, checkBinlogRetention},
	{IDServerID, needSource, incremental, checkServerID},
	{IDLogSlaveUpdates, needSource, incremental, checkLogSlaveUpdates},
	{IDBinlogStart, needSource, startGiven, checkBinlogStart},
	{IDObjectsExist, needSource, always, checkObjectsExist},
	{IDPrimaryKeys, needSource | needPlan, copiesRows, checkPrimaryKeys},
	{IDEngines, needSource | needPlan, always, checkEngines},
	{IDForeignKeyCascades, needSource | needPlan, incremental, checkForeignKeyCascades},
	{IDDestinationConflicts, needDestination | needPlan, always, checkConflicts},
	{IDObjectsNotMigrated, needSource | needPlan, schemaChosen, checkNotMigrated},
	{IDExcludedColumns, needSource | needPlan, schemaChosen, checkExcludedColumns},
	{IDDependencies, needSource | needDestination | needPlan, schemaChosen, checkDependencies},
	{IDDestinationNames, needPlan, always, checkDestinationNames},
	{IDDestinationFreeSpace, needDestination | needPlan, full, checkFreeSpace},
	{IDOnlineDDLLeftovers, needSource | needPlan, always, checkOnlineDDLLeftovers},
	{IDPTOSCTriggers, needSource | needPlan, always, checkPTOSCTriggers},
	{IDETLExpressions, needSource | needPlan, hasExpressions, checkExpressions},
}

func always(*Facts) bool           { return true }
func hasExpressions(f *Facts) bool { return copiesRows(f) && f.ETL != nil }
func incremental(f *Facts) bool    { return f.Spec.Has(spec.TypeIncremental) }
func full(f *Facts) bool           { return f.Spec.Has(spec.TypeFull) }
func copiesRows(f *Facts) bool     { return f.Spec.Has(spec.TypeFull) || f.Spec.Has(spec.TypeIncremental) }
func startGiven(f *Facts) bool {
	return f.Spec.Has(spec.TypeIncremental) && !f.Spec.Options.Incremental.Start.IsZero()
}

// Evaluate runs every rule that applies to the migration. Items needing a server
// that could not be reached are left out: the connect item already failed and says
// why, and a pile of consequential failures would only hide it.
func Evaluate(f Facts) Report {
	var r Report
	for _, ru := range rules {
		if !ru.applies(&f) {
			continue
		}
		if ru.needs&needSource != 0 && !f.Source.Connected() {
			continue
		}
		if ru.needs&needDestination != 0 && !f.Destination.Connected() {
			continue
		}
		if ru.needs&needPlan != 0 && f.Plan == nil {
			continue
		}
		it := ru.check(&f)
		it.ID = ru.id
		r.Items = append(r.Items, it)
	}
	return r
}

// ---------------------------------------------------------------------------
// helpers

const listCap = 10

// capList joins items, showing at most listCap of them.
func capList(items []string) string {
	if len(items) <= listCap {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:listCap], ", ") + fmt.Sprintf(" and %d more", len(items)-listCap)
}

func pass(msg string) Item         { return Item{Status: Pass, Message: msg} }
func warn(msg, remedy string) Item { return Item{Status: Warn, Message: msg, Remedy: remedy} }
func fail(msg, remedy string) Item { return Item{Status: Fail, Message: msg, Remedy: remedy} }
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// selectedSet is the set of selected source tables.
func selectedSet(p *plan.Plan) map[plan.Name]plan.Table {
	m := make(map[plan.Name]plan.Table, len(p.Tables))
	for _, t := range p.Tables {
		m[t.Source] = t
	}
	return m
}

// selectedTables returns the catalog rows of the selected tables, in plan order.
func selectedTables(f *Facts) []Table {
	if f.Source.Catalog == nil {
		return nil
	}
	idx := map[plan.Name]Table{}
	for _, t := range f.Source.Catalog.Tables {
		idx[plan.Name{DB: t.DB, Table: t.Name}] = t
	}
	var out []Table
	for _, t := range f.Plan.Tables {
		if ct, ok := idx[t.Source]; ok {
			out = append(out, ct)
		}
	}
	return out
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func humanDuration(sec int64) string {
	switch {
	case sec%86400 == 0:
		return plural(int(sec/86400), "day", "days")
	case sec >= 86400:
		return fmt.Sprintf("%.1f days", float64(sec)/86400)
	case sec%3600 == 0:
		return plural(int(sec/3600), "hour", "hours")
	case sec >= 3600:
		return fmt.Sprintf("%.1f hours", float64(sec)/3600)
	}
	return plural(int(sec), "second", "seconds")
}

// account quotes CURRENT_USER() ("dts@%") for a GRANT statement: 'dts'@'%'.
func account(currentUser, fallbackUser string) string {
	u, h := currentUser, "%"
	if i := strings.LastIndex(currentUser, "@"); i >= 0 {
		u, h = currentUser[:i], currentUser[i+1:]
	}
	if u == "" {
		u = fallbackUser
	}
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return q(u) + "@" + q(h)
}

// ---------------------------------------------------------------------------
// connectivity and versions

func checkConnect(id string, s *Server, ep spec.Endpoint) Item {
	role := "source"
	if id == IDDestinationConnect {
		role = "destination"
	}
	if s == nil {
		return fail(fmt.Sprintf("the %s was not inspected", role), "")
	}
	if s.ConnectError != "" {
		return fail(fmt.Sprintf("cannot connect to the %s %s: %s", role, s.Address, s.ConnectError), s.ConnectRemedy)
	}
	mode := ep.TLS.Mode
	if mode == "" {
		mode = "preferred"
	}
	what := s.Flavor.String()
	if s.FlavorError != "" {
		what = "version unknown"
	}
	msg := fmt.Sprintf("connected to the %s %s (%s)", role, s.Address, what)
	if s.TLSCipher != "" {
		return pass(fmt.Sprintf("%s over TLS (%s, tls.mode %s)", msg, s.TLSCipher, mode))
	}
	switch mode {
	case "disabled":
		return pass(msg + " without TLS (tls.mode disabled)")
	case "preferred":
		return pass(msg + " without TLS: the server offers none (tls.mode preferred falls back to plain text)")
	}
	// dbconn refuses plain text for the other modes; reaching this means the session
	// is not encrypted although it was asked to be.
	return fail(fmt.Sprintf("%s but the session is not encrypted although tls.mode is %s", msg, mode),
		"enable TLS on the server (ssl_cert, ssl_key) and check the session with SHOW SESSION STATUS LIKE 'Ssl_cipher'")
}

func checkVersion(id string, s *Server) Item {
	if s.FlavorError != "" {
		return fail(fmt.Sprintf("cannot tell the %s's version: %s", s.Role, s.FlavorError), "check that the server is MySQL 5.7, 8.0, 8.4 or MariaDB 10.5+")
	}
	sup, why := s.Flavor.Supported()
	raw := fmt.Sprintf("%s (VERSION() = %q)", s.Flavor, s.Flavor.Raw)
	switch sup {
	case flavor.Unsupported:
		return fail(fmt.Sprintf("the %s runs %s, which is not supported: %s", s.Role, raw, why),
			"use a supported server: MySQL 5.7, 8.0, 8.4 or MariaDB 10.5 and later")
	case flavor.Untested:
		return warn(fmt.Sprintf("the %s runs %s: %s", s.Role, raw, why),
			"run a test migration first, or add "+id+" to options.ignore_warnings once you have")
	}
	return pass(fmt.Sprintf("the %s runs %s, a supported version", s.Role, raw))
}

func checkVersionDifference(f *Facts) Item {
	src, dst := f.Source, f.Destination
	if src.FlavorError != "" || dst.FlavorError != "" {
		return warn("cannot compare the server versions: one of them is unknown", "see source.version and destination.version")
	}
	sf, df := src.Flavor, dst.Flavor
	switch {
	case sf.Kind != df.Kind:
		return warn(fmt.Sprintf("the source runs %s and the destination %s: data types, defaults, collations and SQL syntax differ between %s and %s",
			sf, df, sf.Name(), df.Name()),
			"run the schema phase on a test destination first and review the created tables (collations such as utf8mb4_0900_ai_ci exist on MySQL 8 only, uca1400 ones on MariaDB 10.10+ only)")
	case sf.Series() != df.Series():
		older := ""
		if df.Version.Compare(sf.Version) < 0 {
			older = "; the destination is older, so features used by the source schema may be missing there"
		}
		return warn(fmt.Sprintf("the source runs %s and the destination %s (different major.minor versions%s)", sf, df, older),
			"review the schema on the destination after the schema phase, or migrate between servers of the same series")
	}
	return pass(fmt.Sprintf("both servers run %s %s", sf.Name(), sf.Series()))
}
