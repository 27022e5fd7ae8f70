package flavor

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// GTIDSet is a parsed GTID position in the flavor's own format:
//
//	MariaDB: "0-1-100,1-2-5"  (domain-server-sequence, one per replication domain)
//	MySQL:   "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,<uuid>:1-3"
//	         (since 8.3 a set may carry tags: "<uuid>:1-5:mytag:1-2")
type GTIDSet struct {
	Kind Kind
	// MariaDB: one entry per domain, ordered by domain.
	Domains []MariaDBGTID
	// MySQL: per source UUID (with ":tag" appended for tagged GTIDs), sorted intervals.
	Sources []MySQLGTIDSource
}

// MariaDBGTID is the last transaction of one replication domain.
type MariaDBGTID struct {
	Domain   uint32
	ServerID uint32
	Sequence uint64
}

// MySQLGTIDSource is the executed transactions of one source UUID (and tag).
type MySQLGTIDSource struct {
	UUID      string // lower case
	Tag       string
	Intervals []Interval
}

// Interval is a closed range of transaction numbers.
type Interval struct{ Start, End uint64 }

// ParseGTIDSet parses a GTID position of the given flavor. Whitespace (MySQL prints
// long sets over several lines) is ignored; an empty string is the empty set.
func ParseGTIDSet(kind Kind, s string) (GTIDSet, error) {
	s = strings.Join(strings.Fields(s), "")
	g := GTIDSet{Kind: kind}
	if s == "" {
		return g, nil
	}
	switch kind {
	case MariaDB:
		seen := map[uint32]bool{}
		for _, part := range strings.Split(s, ",") {
			f := strings.Split(part, "-")
			if len(f) != 3 {
				return g, fmt.Errorf("MariaDB GTID %q: want domain-server-sequence", part)
			}
			d, err1 := strconv.ParseUint(f[0], 10, 32)
			sv, err2 := strconv.ParseUint(f[1], 10, 32)
			seq, err3 := strconv.ParseUint(f[2], 10, 64)
			if err := errors.Join(err1, err2, err3); err != nil {
				return g, fmt.Errorf("MariaDB GTID %q: %w", part, err)
			}
			if seen[uint32(d)] {
				return g, fmt.Errorf("MariaDB GTID position %q names domain %d twice", s, d)
			}
			seen[uint32(d)] = true
			g.Domains = append(g.Domains, MariaDBGTID{uint32(d), uint32(sv), seq})
		}
		slices.SortFunc(g.Domains, func(a, b MariaDBGTID) int { return int(a.Domain) - int(b.Domain) })
		return g, nil
	case MySQL:
		idx := map[string]int{}
		for _, part := range strings.Split(s, ",") {
			f := strings.Split(part, ":")
			if len(f) < 2 || !isUUID(f[0]) {
				return g, fmt.Errorf("MySQL GTID set element %q: want uuid:interval[:interval...]", part)
			}
			uuid, tag := strings.ToLower(f[0]), ""
			add := func() *MySQLGTIDSource {
				k := uuid + ":" + tag
				if i, ok := idx[k]; ok {
					return &g.Sources[i]
				}
				idx[k] = len(g.Sources)
				g.Sources = append(g.Sources, MySQLGTIDSource{UUID: uuid, Tag: tag})
				return &g.Sources[len(g.Sources)-1]
			}
			for _, iv := range f[1:] {
				if iv != "" && (iv[0] < '0' || iv[0] > '9') {
					if !isTag(iv) {
						return g, fmt.Errorf("MySQL GTID set element %q: bad tag %q", part, iv)
					}
					tag = strings.ToLower(iv)
					continue
				}
				in, err := parseInterval(iv)
				if err != nil {
					return g, fmt.Errorf("MySQL GTID set element %q: %w", part, err)
				}
				src := add()
				src.Intervals = append(src.Intervals, in)
			}
		}
		for i := range g.Sources {
			g.Sources[i].Intervals = mergeIntervals(g.Sources[i].Intervals)
		}
		slices.SortFunc(g.Sources, func(a, b MySQLGTIDSource) int {
			return strings.Compare(a.UUID+":"+a.Tag, b.UUID+":"+b.Tag)
		})
		return g, nil
	}
	return g, fmt.Errorf("no GTID format for %q servers", kind)
}

func parseInterval(s string) (Interval, error) {
	a, b, isRange := strings.Cut(s, "-")
	start, err := strconv.ParseUint(a, 10, 64)
	if err != nil || start == 0 {
		return Interval{}, fmt.Errorf("bad interval %q", s)
	}
	end := start
	if isRange {
		end, err = strconv.ParseUint(b, 10, 64)
		if err != nil || end < start {
			return Interval{}, fmt.Errorf("bad interval %q", s)
		}
	}
	return Interval{start, end}, nil
}

func mergeIntervals(in []Interval) []Interval {
	slices.SortFunc(in, func(a, b Interval) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	var out []Interval
	for _, x := range in {
		if n := len(out); n > 0 && x.Start <= out[n-1].End+1 {
			if x.End > out[n-1].End {
				out[n-1].End = x.End
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// isTag: MySQL 8.3 tags are up to 32 letters, digits and underscores, not starting
// with a digit.
func isTag(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// IsEmpty reports whether the set holds no transaction.
func (g GTIDSet) IsEmpty() bool { return len(g.Domains) == 0 && len(g.Sources) == 0 }

// String prints the set in the server's own canonical form.
func (g GTIDSet) String() string {
	var parts []string
	for _, d := range g.Domains {
		parts = append(parts, fmt.Sprintf("%d-%d-%d", d.Domain, d.ServerID, d.Sequence))
	}
	for i := 0; i < len(g.Sources); i++ {
		src := g.Sources[i]
		var b strings.Builder
		b.WriteString(src.UUID)
		// Tagged sets of the same UUID print together: uuid:1-5:tag:1-2.
		for j := i; j < len(g.Sources) && g.Sources[j].UUID == src.UUID; j++ {
			if g.Sources[j].Tag != "" {
				b.WriteString(":" + g.Sources[j].Tag)
			}
			for _, in := range g.Sources[j].Intervals {
				if in.Start == in.End {
					fmt.Fprintf(&b, ":%d", in.Start)
				} else {
					fmt.Fprintf(&b, ":%d-%d", in.Start, in.End)
				}
			}
			i = j
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, ",")
}

// Name is the product name of a kind, for messages (Flavor.Name also tells Percona).
func (k Kind) Name() string {
	switch k {
	case MariaDB:
		return "MariaDB"
	case TiDB:
		return "TiDB"
	}
	return "MySQL"
}

// GTIDFormat says how a GTID position of this kind is written, for messages.
func (k Kind) GTIDFormat() string {
	if k == MariaDB {
		return "domain-server-sequence per replication domain, like 0-1-100"
	}
	return "a GTID set uuid:interval, like 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100"
}

// ParseAnyGTIDSet parses a GTID position whose flavor is not known yet (a workflow
// file is validated before any server is asked): a MySQL set has a ':' after each
// source UUID, a MariaDB position never has one. The result's Kind says which.
func ParseAnyGTIDSet(s string) (GTIDSet, error) {
	if strings.Contains(s, ":") {
		return ParseGTIDSet(MySQL, s)
	}
	return ParseGTIDSet(MariaDB, s)
}

// StartGaps is what a server lacks to stream the changes after a GTID start position.
type StartGaps struct {
	// Purged describes transactions after the start that the server no longer has in
	// its binlog files.
	Purged []string
	// Unknown describes transactions the start counts as done that the server never
	// wrote: the position probably comes from another server.
	Unknown []string
}

// OK reports no gap.
func (g StartGaps) OK() bool { return len(g.Purged) == 0 && len(g.Unknown) == 0 }

// Gaps compares a start position with the server's purged and executed GTIDs; all
// three of one flavor. The two flavors mean different things by a position:
//   - MySQL: start is the set of transactions already applied; the server sends
//     executed - start, which needs purged ⊆ start, and start ⊆ executed.
//   - MariaDB: start is the last applied transaction of each replication domain;
//     purged holds, per domain, the last one before the oldest binlog file. Sequence
//     numbers grow within a domain, so the start of a domain must be at or after
//     purged (a domain the start omits starts from nothing) and not past executed.
//     Whether the exact GTID is in the binlog is not checked (that needs a scan).
func (start GTIDSet) Gaps(purged, executed GTIDSet) (StartGaps, error) {
	var g StartGaps
	if start.Kind != purged.Kind || start.Kind != executed.Kind {
		return g, fmt.Errorf("cannot compare a %s GTID position with a %s server's GTIDs", start.Kind, executed.Kind)
	}
	switch start.Kind {
	case MySQL:
		if d := purged.minus(start); !d.IsEmpty() {
			g.Purged = strings.Split(d.String(), ",")
		}
		if d := start.minus(executed); !d.IsEmpty() {
			g.Unknown = strings.Split(d.String(), ",")
		}
	case MariaDB:
		seqOf := func(set GTIDSet, domain uint32) (uint64, bool) {
			for _, d := range set.Domains {
				if d.Domain == domain {
					return d.Sequence, true
				}
			}
			return 0, false
		}
		for _, p := range purged.Domains {
			if s, _ := seqOf(start, p.Domain); s < p.Sequence {
				g.Purged = append(g.Purged, fmt.Sprintf("domain %d, sequence %d to %d", p.Domain, s+1, p.Sequence))
			}
		}
		for _, s := range start.Domains {
			e, ok := seqOf(executed, s.Domain)
			switch {
			case !ok:
				g.Unknown = append(g.Unknown, fmt.Sprintf("domain %d (the server has written nothing in it)", s.Domain))
			case s.Sequence > e:
				g.Unknown = append(g.Unknown, fmt.Sprintf("domain %d, sequence %d to %d", s.Domain, e+1, s.Sequence))
			}
		}
	default:
		return g, fmt.Errorf("no GTID format for %q servers", start.Kind)
	}
	return g, nil
}

// minus is the MySQL set difference g - o.
func (g GTIDSet) minus(o GTIDSet) GTIDSet {
	out := GTIDSet{Kind: g.Kind}
	for _, src := range g.Sources {
		var sub []Interval
		for _, os := range o.Sources {
			if os.UUID == src.UUID && os.Tag == src.Tag {
				sub = os.Intervals
			}
		}
		if rest := subtractIntervals(src.Intervals, sub); len(rest) > 0 {
			out.Sources = append(out.Sources, MySQLGTIDSource{UUID: src.UUID, Tag: src.Tag, Intervals: rest})
		}
	}
	return out
}

// subtractIntervals removes b from a; both sorted and merged.
func subtractIntervals(a, b []Interval) []Interval {
	var out []Interval
	for _, x := range a {
		cur := x
		empty := false
		for _, y := range b {
			if y.End < cur.Start || y.Start > cur.End {
				continue
			}
			if y.Start > cur.Start {
				out = append(out, Interval{cur.Start, y.Start - 1})
			}
			if y.End >= cur.End {
				empty = true
				break
			}
			cur.Start = y.End + 1
		}
		if !empty {
			out = append(out, cur)
		}
	}
	return out
}
