package applier

import (
	"hash/maphash"
	"strconv"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/sluice-dev/sluice/rowcodec"
)

// Conflict keys. Two transactions conflict when they touch the same value of a
// unique key (the primary key included) of the same table, in a before or an
// after image: such transactions run in order, on one connection. Keys are hashes;
// a collision only serialises more than needed.
//
// A value compares on the destination under its column's collation, where 'a',
// 'A', 'á' and 'a ' may be one value. Hashing bytes would let two transactions on
// "equal" values run concurrently and reorder a delete and an insert of the same
// row. So values of case- or accent-folding columns are hashed by a skeleton that is
// coarser than any MariaDB/MySQL collation: NFKD, marks removed, lower case, only
// letters and digits kept, runs of one rune collapsed ("ß" and "ss" and "s" alike,
// the general_ci and unicode_ci rules), at most the index prefix length.
var seed = maphash.MakeSeed()

// txnKeys appends the conflict keys of one change's image.
func (t *target) appendKeys(keys []uint64, tableID uint64, row rowcodec.Row) []uint64 {
	if row == nil {
		return keys
	}
	var h maphash.Hash
	for ui, u := range t.uniques {
		h.SetSeed(seed)
		h.WriteString(t.srcDB)
		h.WriteByte(0)
		h.WriteString(t.srcTable)
		h.WriteByte(0)
		h.WriteString(strconv.Itoa(ui))
		null := false
		for j, ci := range u.cols {
			v := row[ci]
			if v == nil {
				null = true
				break
			}
			h.WriteByte(0)
			writeValue(&h, t.cols[ci], v, u.prefix[j], u.fold[j])
		}
		if null {
			// NULLs never collide in a unique key.
			continue
		}
		keys = append(keys, h.Sum64()^tableID)
	}
	return keys
}

func writeValue(h *maphash.Hash, c rowcodec.Column, v any, prefix int, fold bool) {
	switch x := v.(type) {
	case []byte:
		if c.Kind == rowcodec.KindBytes && (c.Charset == "" || c.Charset == "binary") {
			if prefix > 0 && prefix < len(x) {
				x = x[:prefix]
			}
			h.Write(x)
			return
		}
		if fold || prefix > 0 {
			writeSkeleton(h, x, prefix)
			return
		}
		if c.Kind == rowcodec.KindBytes {
			// A _bin collation still pads with spaces (PAD SPACE): 'a' = 'a '.
			for len(x) > 0 && x[len(x)-1] == ' ' {
				x = x[:len(x)-1]
			}
		}
		h.Write(x)
	case int64:
		h.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		h.WriteString(strconv.FormatUint(x, 10))
	case float32:
		h.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	case float64:
		h.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	default:
		h.WriteString("?")
	}
}

// expansions are the Latin letters NFKD leaves whole that a collation may equate
// with ASCII letters (utf8mb4_unicode_ci: æ = ae; general_ci: ß = s). Mapping one
// that a collation keeps distinct only serialises more.
var expansions = map[rune]string{
	'ß': "s", 'ẞ': "s", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th",
	'ł': "l", 'ı': "i", 'ŋ': "n", 'ħ': "h", 'ŧ': "t", 'ĸ': "k", 'ſ': "s",
}

// writeSkeleton hashes the folded form of a string value (see above). The
// charset is not decoded: non-UTF-8 bytes (latin1 and others) are hashed by
// their ASCII letters and digits only, with every other byte dropped, which is
// coarser still.
func writeSkeleton(h *maphash.Hash, x []byte, prefix int) {
	var last rune = -1
	n := 0
	var buf [4]byte
	utf := utf8.Valid(x)
	emit := func(r rune) {
		r = unicode.ToLower(r)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return
		}
		if r == last {
			return
		}
		last = r
		if r < utf8.RuneSelf {
			h.WriteByte(byte(r))
			return
		}
		k := utf8.EncodeRune(buf[:], r)
		h.Write(buf[:k])
	}
	if !utf {
		for _, b := range x {
			if prefix > 0 && n >= prefix {
				return
			}
			n++
			if b < utf8.RuneSelf {
				emit(rune(b))
			}
		}
		return
	}
	var it norm.Iter
	it.Init(norm.NFKD, x)
	count := 0
	for !it.Done() {
		seg := it.Next()
		// A segment starts with a starter: one source character (for the prefix).
		count++
		if prefix > 0 && count > prefix {
			return
		}
		for len(seg) > 0 {
			r, size := utf8.DecodeRune(seg)
			seg = seg[size:]
			if unicode.Is(unicode.Mark, r) {
				continue
			}
			if e, ok := expansions[unicode.ToLower(r)]; ok {
				for _, r := range e {
					emit(r)
				}
				continue
			}
			emit(r)
		}
	}
}
