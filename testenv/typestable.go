package testenv

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
)

// The every-type table of the exactness tests (rowcodec, binlog): a table t with
// every MariaDB type and edge value, its column list for INSERT, its rows as SQL
// tuples, and the FLOAT/DOUBLE edge values to set through server-side prepared
// placeholders (exact on the wire). One definition, so the full copy's and the
// binlog's exactness are proven on the same data.
const TypesTableDDL = "CREATE TABLE t (" +
	"id INT NOT NULL AUTO_INCREMENT PRIMARY KEY," +
	"ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED," +
	"d65 DECIMAL(65,30), d10 DECIMAL(10,2), f FLOAT, d DOUBLE," +
	"b1 BIT(1), b5 BIT(5), b64 BIT(64)," +
	"e ENUM('a','b,c','it''s','x\"y\\\\z'), s SET('x','y''q','z')," +
	"j JSON, g GEOMETRY, p POINT, pg POLYGON," +
	"dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, ts0 TIMESTAMP NULL DEFAULT NULL, da DATE, tm TIME, tm6 TIME(6), y YEAR," +
	"b8 BINARY(8), vb VARBINARY(300), bl BLOB, lb LONGBLOB," +
	"u8 VARCHAR(60) CHARACTER SET utf8mb4, l1 VARCHAR(60) CHARACTER SET latin1, c1 CHAR(10) CHARACTER SET latin1," +
	"sj VARCHAR(20) CHARACTER SET sjis, u16 VARCHAR(20) CHARACTER SET utf16, tx TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin," +
	"ip6 INET6, ip4 INET4, uu UUID," +
	"gv BIGINT AS (i * 2) VIRTUAL, gs VARCHAR(100) AS (CONCAT(IFNULL(u8, ''), '!')) STORED," +
	"inv INT INVISIBLE NULL DEFAULT 7" +
	") ENGINE=InnoDB"

const TypesTableColumns = "(id,ti,tu,si,mi,i,iu,bi,bu,d65,d10,b1,b5,b64,e,s,j,g,p,pg,dt,dt6,ts,ts0,da,tm,tm6,y,b8,vb,bl,lb,u8,l1,c1,sj,u16,tx,ip6,ip4,uu,inv)"

// AllBytesHex is X'…' of the 256 byte values.
func AllBytesHex() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return "X'" + hex.EncodeToString(b) + "'"
}

func TypesTableRows() []string {
	all := AllBytesHex()
	rows := []string{
		// maxima, fractional temporals, every byte value, charsets
		"(0,127,255,32767,8388607,2147483647,4294967295,9223372036854775807,18446744073709551615," +
			"'-12345678901234567890123456789012345.123456789012345678901234567890','5.00'," +
			"b'1',b'10101',b'1000000000000000000000000000000000000000000000000000000000000001'," +
			"'b,c','x,y''q,z','{\"a\": 1.0, \"b\": [1, 2.50, 1e400], \"c\":\"\\\\u00e9\"}'," +
			"ST_GeomFromText('POINT(1 2)',4326),POINT(1.5,-2.25),ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))')," +
			"'9999-12-31 23:59:59','2024-02-29 23:59:59.999999','2038-01-19 03:14:07.999999','0000-00-00 00:00:00','0000-00-00'," +
			"'838:59:59','838:59:59.000000',2155," +
			"X'6162'," + all + "," + all + ",REPEAT(" + all + ",40)," +
			"'😀é''\"\\\\\t\n',X'E9',X'636166E920',_utf8mb4'日本語',_utf8mb4'é😀','NULL'," +
			"'1:2:3:4:5:6:7:88','255.255.255.255','123e4567-e89b-12d3-a456-426614174000',42)",
		// minima, zero dates, negative TIME, YEAR 0, ENUM '', empty strings
		"(-5,-128,0,-32768,-8388608,-2147483648,0,-9223372036854775808,0," +
			"'0.000000000000000000000000000001','-99999999.99',b'0',b'0',b'0','','','[]'," +
			"ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))',0),POINT(0,0),NULL," +
			"'1000-01-01 00:00:00','0000-00-00 00:00:00.000000','1970-01-01 00:00:01.000001','1970-01-01 00:00:01','2024-00-15'," +
			"'-838:59:59','-838:59:59.000000',0," +
			"X'0000000000000000','','','','',X'E9FF00','','','','\\\\N','::','0.0.0.0','00000000-0000-0000-0000-000000000000',0)",
		// all NULL
		"(1" + strings.Repeat(",NULL", 41) + ")",
		// more edges: TIME beyond 24h, in-month zero date, escapes in text
		"(2,1,1,1,1,1,1,1,9223372036854775808,'1E1','0.01',b'1',b'11111',b'0111111111111111111111111111111111111111111111111111111111111111'," +
			"'it''s','z','{\"k\": \"v\"}',POINT(-1,1e300),POINT(3,4),NULL," +
			"'2024-02-00 12:00:00','1000-01-01 00:00:00.000001','2000-01-01 00:00:00','2000-02-29 12:00:00','2024-02-29'," +
			"'100:00:00','-100:00:00.500000',1901," +
			"X'FF00',X'5C4E',X'5C0D0A1A09',X'00','NULL','\\\\N','   ',_utf8mb4'ｱ',_utf8mb4'a','a\\tb\\nc\\rd\\\\e\\0f'," +
			"'::1','10.0.0.1','ffffffff-ffff-ffff-ffff-ffffffffffff',NULL)",
		"(3" + strings.Repeat(",NULL", 13) + ",'x\"y\\\\z','x,y''q'" + strings.Repeat(",NULL", 26) + ")",
	}
	for i := 10; i < 150; i++ {
		rows = append(rows, fmt.Sprintf("(%d,%d,%d,%d,%d,%d,%d,%d,%d,'%d.%030d','%d.%02d',b'%d',%d,%d,'a','x,z','{\"n\": %d}',"+
			"POINT(%d,%d),POINT(%d,-%d),NULL,'2001-02-03 04:05:06','2001-02-03 04:05:06.%06d','2001-02-03 04:05:06.%06d','2030-02-03 04:05:06',"+
			"'2001-02-03','%d:00:01','-%d:00:01.%06d',%d,X'%02x09',X'%02x0a5c00',REPEAT(X'%02x',%d),'','row %d\t😀',CONCAT(X'636166E920','%d'),'x','y','z','tx %d\\\\',NULL,NULL,NULL,%d)",
			-i*1000, i%128-64, i%256, i*7, i*1000, i*7-500, i*11, int64(i)*1e15, uint64(i)*1e17,
			i, i, i, i%100, i%2, i%32, i*1e15, i,
			i, i, i, i, i*997, i*7919, i%839, i%839, i*13, 1901+i%254, i, i, i, i*37,
			i, i, i, i))
	}
	return rows
}

var (
	TypesTableFloats  = []float32{1.2345678, math.MaxFloat32, -math.MaxFloat32, 1e-45, 0.1, 16777216, 1.1754944e-38, 3.1415927, 123456.79, -0.5, 0}
	TypesTableDoubles = []float64{0.1, 0.30000000000000004, math.MaxFloat64, math.SmallestNonzeroFloat64, 1.5e-323, -2.2250738585072014e-308, 1.0 / 3, -1e-300, 0}
)
