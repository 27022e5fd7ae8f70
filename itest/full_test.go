package itest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/testenv"
)

// checksum is computed by the server itself over the listed columns (HEX keeps every
// byte; FLOAT is compared through DOUBLE so no digit is rounded away).
func checksum(t *testing.T, db testenv.Querier, table, cols string) (count, sum string) {
	t.Helper()
	r := testenv.Row(t, db, fmt.Sprintf("SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT_WS('|', %s))), 0) AS s FROM %s", cols, table))
	return r["n"], r["s"]
}

func TestFullPhaseCopiesEveryRowExactly(t *testing.T) {
	env := testenv.Shared(t)
	s := startStack(t)
	s.setEnv("IT_SRC_PASSWORD", env.Source.RootPassword)
	s.setEnv("IT_DST_PASSWORD", env.Destination.RootPassword)
	ctx := context.Background()
	for _, q := range []string{"DROP DATABASE IF EXISTS itf_src", "DROP DATABASE IF EXISTS `itf dst`"} {
		env.Source.Exec(ctx, q)
		env.Destination.Exec(ctx, q)
	}
	t.Cleanup(func() {
		env.Source.Exec(context.Background(), "DROP DATABASE IF EXISTS itf_src")
		env.Destination.Exec(context.Background(), "DROP DATABASE IF EXISTS `itf dst`")
	})
	if err := env.Source.Exec(ctx, "CREATE DATABASE itf_src",
		"CREATE TABLE itf_src.`order items` (id INT PRIMARY KEY, Cust INT, note TEXT, amount DECIMAL(12,4), f FLOAT, d DOUBLE, b VARBINARY(8), dt DATETIME(6), KEY `by cust` (Cust, dt))",
		// Negative, zero and positive keys with a gap.
		"INSERT INTO itf_src.`order items` SELECT CAST(seq AS SIGNED) - 15000, seq % 97, REPEAT('n', seq % 50), seq / 7, seq / 3.0, 1 / seq, UNHEX(LPAD(HEX(seq), 8, '0')), '2020-01-01 00:00:00' + INTERVAL seq SECOND FROM itf_src.seq_1_to_30000",
		"INSERT INTO itf_src.`order items` VALUES (1000000, 1, 'far', 1.5, 1.2345678, 0.1, X'0000', '0000-00-00 00:00:00')",
		// A composite string key where one first-column value holds most rows.
		"CREATE TABLE itf_src.tagged (tag VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, n INT NOT NULL, v VARCHAR(10), PRIMARY KEY (tag, n))",
		"INSERT INTO itf_src.tagged SELECT IF(seq % 10 = 0, CONCAT('t', seq), 'hot'), seq, 'x' FROM itf_src.seq_1_to_8000",
		// No usable key.
		"CREATE TABLE itf_src.loose (a INT, b VARCHAR(5))",
		"INSERT INTO itf_src.loose SELECT seq % 3, 'dup' FROM itf_src.seq_1_to_2000",
	); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "fullcopy", fmt.Sprintf(`name: fullcopy
source: {host: %s, port: %d, user: %s, password: "${IT_SRC_PASSWORD}"}
destination: {host: %s, port: %d, user: %s, password: "${IT_DST_PASSWORD}"}
types: [schema, full]
objects:
  - database: itf_src
    to: itf dst
    tables:
      - "*"
      - {name: order items, columns: {Cust: customer_id, id: Order ID}, exclude_columns: [note]}
options:
  full: {parallel: 3}
  ignore_warnings: [tables.primary_key]
`, env.Source.Host, env.Source.Port, env.Source.RootUser, env.Destination.Host, env.Destination.Port, env.Destination.RootUser))
	code, out, _ := s.sluice(t, "start", "-f", file, "--follow")
	if code != 0 || !strings.Contains(out, "row(s) copied") {
		t.Fatalf("start: exit %d", code)
	}
	src, _ := env.Source.Open("")
	defer src.Close()
	dst, _ := env.Destination.Open("")
	defer dst.Close()
	for _, c := range []struct{ srcT, dstT, srcCols, dstCols string }{
		{"itf_src.`order items`", "`itf dst`.`order items`",
			"id, Cust, HEX(amount), HEX(CAST(f AS DOUBLE)), HEX(d), HEX(b), dt", "`Order ID`, customer_id, HEX(amount), HEX(CAST(f AS DOUBLE)), HEX(d), HEX(b), dt"},
		{"itf_src.tagged", "`itf dst`.tagged", "HEX(tag), n, v", "HEX(tag), n, v"},
		{"itf_src.loose", "`itf dst`.loose", "a, b", "a, b"},
	} {
		sn, ss := checksum(t, src, c.srcT, c.srcCols)
		dn, ds := checksum(t, dst, c.dstT, c.dstCols)
		if sn != dn || ss != ds || sn == "0" {
			t.Errorf("%s: source %s rows (sum %s), destination %s rows (sum %s)", c.srcT, sn, ss, dn, ds)
		}
	}
	if r := testenv.Row(t, dst, "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'itf dst' AND COLUMN_NAME = 'note'"); r["n"] != "0" {
		t.Fatal("the excluded column exists on the destination")
	}
	// The secondary index was deferred and added after the rows, on the renamed column.
	if r := testenv.Row(t, dst, "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'itf dst' AND TABLE_NAME = 'order items' AND INDEX_NAME = 'by cust'"); r["c"] != "customer_id,dt" {
		t.Fatalf("index `by cust` on the destination: %q", r["c"])
	}
	code, out, _ = s.sluice(t, "status", "sluice-fullcopy")
	if code != 0 || !strings.Contains(out, "3 of 3 table(s) done, 40001 row(s)") || !strings.Contains(out, "binlog position before the copy") {
		t.Fatalf("status: exit %d", code)
	}
}
