package etl

import (
	"testing"

	"github.com/sluice-dev/sluice/rowcodec"
)

// Benchmarks per row (`go test -run '^$' -bench . -benchmem ./etl/`): one op is
// one row. The table and row are testTable's (14 columns).
func benchProgram(b *testing.B, s Spec) (*Program, rowcodec.Row) {
	p, err := Compile(testTable(), s)
	if err != nil {
		b.Fatal(err)
	}
	return p, testRow()
}

var (
	benchFilter    = `row.status == "active" && row.qty > 10 && row.price >= decimal("10")`
	benchTransform = map[string]string{
		"email": `sha256(row.email.lowerAscii())`,
		"price": `row.price * decimal("1.1")`,
		"qty":   `row.qty * 2`,
	}
)

func BenchmarkFilter(b *testing.B) {
	p, row := benchProgram(b, Spec{Filter: benchFilter})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Keep(row, nil, OpInsert); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransform3(b *testing.B) {
	p, row := benchProgram(b, Spec{Transform: benchTransform})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Transform(row, nil, OpInsert); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterAndTransform3(b *testing.B) {
	p, row := benchProgram(b, Spec{Filter: benchFilter, Transform: benchTransform})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Apply(row); err != nil {
			b.Fatal(err)
		}
	}
}

// Parallel: one program shared by the copy's goroutines.
func BenchmarkFilterAndTransform3Parallel(b *testing.B) {
	p, row := benchProgram(b, Spec{Filter: benchFilter, Transform: benchTransform})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Apply(row); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
