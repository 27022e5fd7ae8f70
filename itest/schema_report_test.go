package itest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/testenv"
)

// Triggers keep their firing order, and events and sequences are named as not
// migrated in the result and in sluice status.
func TestSchemaTriggerOrderAndNotMigratedReport(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	ctx := context.Background()
	const db = "it_order"
	env.Source.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	env.Destination.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
	t.Cleanup(func() {
		env.Source.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		env.Destination.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
	})
	// a_second is created first; z_first is created later but PRECEDES it, so the
	// firing order (z_first, then a_second) differs from both the creation order and the
	// names' order.
	if err := env.Source.Exec(ctx, "CREATE DATABASE "+db,
		"CREATE TABLE "+db+".t (id INT PRIMARY KEY, s VARCHAR(20))",
		"CREATE TRIGGER "+db+".a_second BEFORE INSERT ON "+db+".t FOR EACH ROW SET NEW.s = CONCAT(COALESCE(NEW.s, ''), 'b')",
		"CREATE TRIGGER "+db+".z_first BEFORE INSERT ON "+db+".t FOR EACH ROW PRECEDES a_second SET NEW.s = CONCAT(COALESCE(NEW.s, ''), 'a')",
		"CREATE EVENT "+db+".`nightly` ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM "+db+".t",
		"CREATE SEQUENCE "+db+".`ids`",
	); err != nil {
		t.Fatal(err)
	}
	src, _ := env.Source.Open("")
	defer src.Close()
	var srcS string
	if _, err := src.Exec("INSERT INTO " + db + ".t (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := src.QueryRow("SELECT s FROM " + db + ".t WHERE id = 1").Scan(&srcS); err != nil || srcS != "ab" {
		t.Fatalf("source trigger order: %q %v", srcS, err)
	}

	file := writeFile(t, "order", fmt.Sprintf(`name: order
source: {host: %s, port: %d, user: %s, password: "${IT_SRC_PASSWORD}"}
destination: {host: %s, port: %d, user: %s, password: "${IT_DST_PASSWORD}"}
types: [schema]
objects:
  - database: %s
    tables: ["*"]
options:
  ignore_warnings: [objects.not_migrated]
`, env.Source.Host, env.Source.Port, env.Source.RootUser, env.Destination.Host, env.Destination.Port, env.Destination.RootUser, db))
	code, out, _ := s.sluice(t, "start", "-f", file, "--follow")
	if code != 0 || !strings.Contains(out, "not migrated: event `it_order`.`nightly`") || !strings.Contains(out, "not migrated: sequence `it_order`.`ids`") {
		t.Fatalf("start: exit %d, the report must name the event and the sequence", code)
	}
	code, out, _ = s.sluice(t, "status", "sluice-order")
	if code != 0 || !strings.Contains(out, "trigger    2 of 2 applied") || !strings.Contains(out, "not migrated: event") {
		t.Fatalf("status: exit %d", code)
	}

	dst, _ := env.Destination.Open("")
	defer dst.Close()
	var dstS string
	if _, err := dst.Exec("INSERT INTO " + db + ".t (id) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := dst.QueryRow("SELECT s FROM " + db + ".t WHERE id = 1").Scan(&dstS); err != nil || dstS != srcS {
		t.Fatalf("destination triggers fire in another order: %q, source %q (%v)", dstS, srcS, err)
	}
	var n int
	if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?", db).Scan(&n); err != nil || n != 0 {
		t.Fatalf("an event was migrated: %d %v", n, err)
	}
	if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE'", db).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a sequence was migrated: %d %v", n, err)
	}
}
