package schema

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/plan"
	"github.com/sluice-dev/sluice/testenv"
)

// indexNames lists a table's indexes as the server has them.
func indexNames(t *testing.T, db testenv.Querier, schema, table string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME`, schema, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func TestDeferredIndexes(t *testing.T) {
	env := testenv.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const db = "sch_defer"
	for _, s := range []*testenv.Server{env.Source, env.Destination} {
		if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Source.Exec(ctx,
		"CREATE TABLE sch_defer.parent (id INT PRIMARY KEY)",
		"CREATE TABLE sch_defer.`my-table` (id INT PRIMARY KEY, p INT, x INT, `ü` VARCHAR(20), UNIQUE KEY u (x), "+
			"KEY fk_p (p), KEY `plain``key` (x, `ü`(5)), KEY second (`ü` DESC), FULLTEXT KEY ft (`ü`), "+
			"CONSTRAINT fk_p FOREIGN KEY (p) REFERENCES sch_defer.parent (id))",
		"INSERT INTO sch_defer.parent VALUES (1)",
		"INSERT INTO sch_defer.`my-table` SELECT seq, 1, seq, CONCAT('v', seq) FROM sch_defer.seq_1_to_1000",
	); err != nil {
		t.Fatal(err)
	}
	src, _ := env.Source.Open("")
	defer src.Close()
	dst, _ := env.Destination.Open("")
	defer dst.Close()
	tbl := Table{Source: plan.Name{DB: db, Table: "my-table"}, Dest: plan.Name{DB: db, Table: "my-table"}}
	opt := TableOptions{Conflicts: ConflictsPrecheck, DeferIndexes: true}
	for _, p := range []string{"parent", "my-table"} {
		tb := Table{Source: plan.Name{DB: db, Table: p}, Dest: plan.Name{DB: db, Table: p}}
		if _, err := ApplyTable(ctx, src, dst, tb, identity{}, opt); err != nil {
			t.Fatal(err)
		}
	}
	early := []string{"fk_p", "ft", "PRIMARY", "u"}
	if got := indexNames(t, dst, db, "my-table"); !slices.Equal(got, early) {
		t.Fatalf("created with indexes %q, want %q", got, early)
	}
	// A re-run of the schema phase accepts the table without its deferred indexes.
	if r, err := ApplyTable(ctx, src, dst, tbl, identity{}, opt); err != nil || r.Action != Exists {
		t.Fatalf("re-apply: %v %v", r.Action, err)
	}
	if err := env.Destination.Exec(ctx, "INSERT INTO sch_defer.parent VALUES (1)",
		"INSERT INTO sch_defer.`my-table` SELECT seq, 1, seq, CONCAT('v', seq) FROM sch_defer.seq_1_to_1000",
		// An earlier attempt added one of them already.
		"ALTER TABLE sch_defer.`my-table` ADD KEY second (`ü` DESC)"); err != nil {
		t.Fatal(err)
	}
	added, err := AddDeferredIndexes(ctx, src, dst, tbl, identity{})
	if err != nil || !slices.Equal(added, []string{"plain`key"}) {
		t.Fatalf("added %q, %v", added, err)
	}
	// Now the destination's definition is the source's, index for index (the one
	// added early is listed in another order).
	lines := func(db testenv.Querier) []string {
		l := strings.Split(testenv.ShowCreate(t, db, "SHOW CREATE TABLE sch_defer.`my-table`"), "\n")
		for i := range l {
			l[i] = strings.TrimSuffix(l[i], ",")
		}
		slices.Sort(l)
		return l
	}
	if got, want := lines(dst), lines(src); !slices.Equal(got, want) {
		t.Fatalf("destination:\n%s\nsource:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if added, err := AddDeferredIndexes(ctx, src, dst, tbl, identity{}); err != nil || len(added) != 0 {
		t.Fatalf("second call added %q, %v", added, err)
	}
	if r, err := ApplyTable(ctx, src, dst, tbl, identity{}, opt); err != nil || r.Action != Exists {
		t.Fatalf("re-apply after the indexes: %v %v", r.Action, err)
	}
}
