package rowcodec

import (
	"strings"
	"testing"
)

// Renamed columns (columns:) are written under their destination names; the source
// is still read by the source names.
func TestWritersUseDestinationNames(t *testing.T) {
	cols := []Column{{Name: "Cust", DataType: "int", Kind: KindOf("int"), Dest: "customer_id"}, {Name: "note", DataType: "varchar", Kind: KindOf("varchar")}}
	stmts, err := InsertStatements(Table{Schema: "d", Name: "t"}, cols, []Row{{int64(1), []byte("x")}}, 1<<20, Precheck)
	if err != nil || len(stmts) != 1 {
		t.Fatal(stmts, err)
	}
	if !strings.Contains(stmts[0].SQL, "(`customer_id`,`note`)") {
		t.Fatalf("INSERT names: %s", stmts[0].SQL)
	}
	if ld := LoadDataStatement(Table{Schema: "d", Name: "t"}, "r", cols, Precheck); !strings.Contains(ld, "(`customer_id`,`note`)") {
		t.Fatalf("LOAD DATA names: %s", ld)
	}
	if got := ColumnList(cols); got != "`Cust`,`note`" {
		t.Fatalf("source list: %s", got)
	}
}
