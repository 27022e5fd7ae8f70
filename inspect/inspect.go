// Package inspect gathers facts from the live source and destination servers and
// turns them into the precheck report with the pure rules of package precheck.
// It only reads: no statement here changes a server.
package inspect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/dbconn"
	"github.com/sluice-dev/sluice/flavor"
	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/precheck"
	"github.com/sluice-dev/sluice/spec"
)

// Precheck connects to both servers, gathers the facts and evaluates every item that
// applies to the migration. Problems with the servers (unreachable, missing
// privileges, a query refused) become report items rather than errors, so the user
// sees them all at once. progress is called between steps (the activity heartbeats
// there); if ctx ends, the remaining steps fail fast and the caller should look at
// ctx.Err().
func Precheck(ctx context.Context, s spec.Spec, lookup dbconn.LookupFunc, progress func(step string)) precheck.Report {
	f := Gather(ctx, s, lookup, progress)
	step(progress, "evaluate")
	return precheck.Evaluate(f)
}

func step(progress func(string), name string) {
	if progress != nil {
		progress(name)
	}
}

// Gather collects the facts the precheck rules need.
func Gather(ctx context.Context, s spec.Spec, lookup dbconn.LookupFunc, progress func(step string)) precheck.Facts {
	s.ApplyDefaults()
	f := precheck.Facts{Spec: s}
	red := newRedactor(lookup, s.Source, s.Destination)

	step(progress, "connect to source")
	srcDB, src := connect(ctx, "source", s.Source, lookup, red)
	f.Source = src
	var srcCat *precheck.Catalog
	var srcDBs []string
	if srcDB != nil {
		defer srcDB.Close()
		step(progress, "inspect source")
		inspectServer(ctx, srcDB, src, red)
		if src.FlavorError == "" && s.Has(spec.TypeIncremental) {
			src.Replica, src.ReplicaError = replicaStatus(ctx, srcDB, src.Flavor)
			src.ReplicaError = red(src.ReplicaError)
			if st := s.Options.Incremental.Start; !st.IsZero() {
				step(progress, "check the start position on the source")
				src.BinlogStart = readBinlogStart(ctx, srcDB, src.Flavor, st, red)
			}
		}
		step(progress, "read source catalog")
		cat, all, err := readCatalog(ctx, srcDB, sourceDatabases(s))
		if err != nil {
			src.CatalogError = red(err.Error())
			f.PlanError = src.CatalogError
		} else {
			src.Catalog, srcCat, srcDBs = cat, cat, all
		}
	}

	step(progress, "connect to destination")
	dstDB, dst := connect(ctx, "destination", s.Destination, lookup, red)
	f.Destination = dst
	if dstDB != nil {
		defer dstDB.Close()
		step(progress, "inspect destination")
		inspectServer(ctx, dstDB, dst, red)
	}

	if srcCat != nil {
		// Destination names depend on the destination's lower_case_table_names
		// (options.case: destination, collisions), known once it answered.
		p := plan.Resolve(s, planCatalog(srcCat, srcDBs, src.LowerCaseTableNames()),
			plan.Options{DestinationLowerCaseTableNames: dst.LowerCaseTableNames()})
		f.Plan = &p
	}

	if dstDB != nil && f.Plan != nil {
		step(progress, "read destination catalog")
		dcat, _, err := readCatalog(ctx, dstDB, f.Plan.DestDatabases())
		if err != nil {
			dst.CatalogError = red(err.Error())
		} else {
			dst.Catalog = dcat
			if s.Has(spec.TypeFull) && !s.Has(spec.TypeSchema) && s.Options.Conflicts != "ignore" {
				step(progress, "probe destination tables for rows")
				dcat.NonEmpty = probeNonEmpty(ctx, dstDB, dcat, *f.Plan)
			}
		}
	}
	if srcDB != nil && f.Plan != nil && s.Has(spec.TypeSchema) {
		step(progress, "read the objects the schema phase creates")
		f.Schema, f.SchemaError = readSchemaFacts(ctx, srcDB, dstDB, s, *f.Plan, plan.Options{DestinationLowerCaseTableNames: dst.LowerCaseTableNames()})
		f.SchemaError = red(f.SchemaError)
		if f.Schema != nil {
			f.Schema.ExclusionsError = red(f.Schema.ExclusionsError)
			f.Schema.DependenciesError = red(f.Schema.DependenciesError)
		}
	}
	if srcDB != nil && f.Plan != nil && (s.Has(spec.TypeFull) || s.Has(spec.TypeIncremental)) {
		step(progress, "type-check filters and transforms")
		f.ETL = checkExpressions(ctx, srcDB, s, *f.Plan, red)
	}
	if dstDB != nil && s.Has(spec.TypeFull) {
		step(progress, "estimate destination free space")
		dst.Datadir, _ = dst.Variables.Get("datadir")
		dst.Disks, dst.DisksError = readDisks(ctx, dstDB, dst.Flavor)
		dst.DisksError = red(dst.DisksError)
	}
	return f
}

// connect opens one server; on failure the Server carries the reason and remedy.
func connect(ctx context.Context, role string, ep spec.Endpoint, lookup dbconn.LookupFunc, red func(string) string) (*sql.DB, *precheck.Server) {
	srv := &precheck.Server{Role: role, Address: ep.User + "@" + ep.Address()}
	db, err := dbconn.Open(ctx, role, ep, lookup)
	if err != nil {
		var ce *dbconn.ConnectError
		if errors.As(err, &ce) {
			srv.ConnectError = red(ce.Err.Error())
			srv.ConnectRemedy = ce.Remedy()
		} else {
			srv.ConnectError = red(strings.TrimPrefix(err.Error(), role+": "))
			srv.ConnectRemedy = "fix the " + role + " section of the workflow file (password reference, password_file, tls)"
		}
		return nil, srv
	}
	return db, srv
}

// newRedactor hides the expanded passwords in any text that goes into the report, in
// case a server or driver message ever echoes one.
func newRedactor(lookup dbconn.LookupFunc, eps ...spec.Endpoint) func(string) string {
	var secrets []string
	for _, ep := range eps {
		if pw, err := dbconn.Password(ep, lookup); err == nil && pw != "" {
			secrets = append(secrets, pw)
		}
	}
	return func(s string) string {
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, "******")
		}
		return s
	}
}

// inspectServer reads version, TLS, variables and grants.
func inspectServer(ctx context.Context, db *sql.DB, srv *precheck.Server, red func(string) string) {
	var version, comment string
	if err := db.QueryRowContext(ctx, "SELECT VERSION(), @@version_comment").Scan(&version, &comment); err != nil {
		srv.FlavorError = red(fmt.Sprintf("SELECT VERSION(): %v", err))
	} else if fl, err := flavor.Detect(version, comment); err != nil {
		srv.FlavorError = red(err.Error())
	} else {
		srv.Flavor = fl
	}

	var name, cipher string
	if err := db.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(&name, &cipher); err == nil {
		srv.TLSCipher = cipher
	}

	if vars, err := readVariables(ctx, db); err != nil {
		srv.VariablesError = red(err.Error())
	} else {
		srv.Variables = vars
	}

	if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&srv.CurrentUser); err != nil {
		srv.CurrentUser = ""
	}
	grants, err := queryStrings(ctx, db, "SHOW GRANTS")
	if err != nil {
		srv.GrantsError = red(err.Error())
	}
	srv.Grants = grants
}

func readVariables(ctx context.Context, db *sql.DB) (flavor.Variables, error) {
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL VARIABLES")
	if err != nil {
		return nil, fmt.Errorf("SHOW GLOBAL VARIABLES: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k string
		var v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("SHOW GLOBAL VARIABLES: %w", err)
		}
		m[k] = v.String
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("SHOW GLOBAL VARIABLES: %w", err)
	}
	return flavor.NewVariables(m), nil
}

func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	return out, nil
}

// queryMaps runs a SHOW statement whose columns differ between versions and returns
// each row as column -> value.
func queryMaps(ctx context.Context, db *sql.DB, q string) ([]map[string]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			m[c] = vals[i].String
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func replicaStatus(ctx context.Context, db *sql.DB, fl flavor.Flavor) ([]flavor.ReplicaChannel, string) {
	q := fl.ReplicaStatusStatement()
	rows, err := queryMaps(ctx, db, q)
	if err != nil {
		return nil, err.Error()
	}
	var out []flavor.ReplicaChannel
	for _, r := range rows {
		out = append(out, flavor.ParseReplicaStatus(r))
	}
	return out, ""
}

// sourceDatabases are the databases named in objects.
func sourceDatabases(s spec.Spec) []string {
	var out []string
	for _, o := range s.Objects {
		out = append(out, o.Database)
	}
	return out
}

// readDisks reads the destination's disks where its flavor has an SQL view of them
// (flavor.DiskSpaceQuery), with sizes converted from KiB to bytes.
func readDisks(ctx context.Context, db *sql.DB, fl flavor.Flavor) ([]precheck.Disk, string) {
	query, unavailable := fl.DiskSpaceQuery()
	if query == "" {
		return nil, unavailable
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			if why := fl.DiskSpaceQueryError(me.Number); why != "" {
				return nil, why
			}
		}
		return nil, "reading information_schema.DISKS failed: " + err.Error()
	}
	defer rows.Close()
	var out []precheck.Disk
	for rows.Next() {
		var d precheck.Disk
		if err := rows.Scan(&d.Path, &d.Total, &d.Used, &d.Available); err != nil {
			return nil, "reading information_schema.DISKS failed: " + err.Error()
		}
		d.Total, d.Used, d.Available = d.Total*1024, d.Used*1024, d.Available*1024
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "reading information_schema.DISKS failed: " + err.Error()
	}
	if len(out) == 0 {
		return nil, "information_schema.DISKS shows no disk to this account (it needs the FILE privilege)"
	}
	return out, ""
}
