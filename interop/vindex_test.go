package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"vitess.io/vitess/go/sqltypes"
	"vitess.io/vitess/go/vt/key"
	vindexes "vitess.io/vitess/go/vt/vtgate/vindexes"

	"github.com/vtdirect/vtdirect/vindex"
)

// vindexValues is how many values of each kind each vindex is checked on.
const vindexValues = 100_000

// valueKind generates values of one kind, each as Vitess's sqltypes.Value and as ours.
type valueKind struct {
	name string
	gen  func(r *rand.Rand) (sqltypes.Value, vindex.Value)
}

func both(t sqltypes.Type, k vindex.Kind, raw []byte) (sqltypes.Value, vindex.Value) {
	if k == vindex.Null {
		return sqltypes.NULL, vindex.NullValue()
	}
	return sqltypes.MakeTrusted(t, raw), vindex.Value{Kind: k, Raw: raw}
}

// textRunes are the characters of generated text: ASCII of both cases, accented Latin,
// Greek, Cyrillic, CJK, full-width forms, combining marks, emoji, spaces.
var textRunes = []rune("abcxyzABCXYZ019 _-.,'\"\\éèêëÉÈàáâäÀÁçÇñÑöÖøØßüÜåÅæÆœŒ" +
	"αβγΑΒΓσςΣабвАБВёЁ日本語中文字한국어ｱｲｳＡＢＣａｂｃ１２３\u0301\u0308\u200b😀🚀ﬁﬀ\t ")

func genText(r *rand.Rand, maxLen int) []byte {
	n := r.IntN(maxLen + 1)
	var b strings.Builder
	for range n {
		b.WriteRune(textRunes[r.IntN(len(textRunes))])
	}
	if r.IntN(10) == 0 {
		b.WriteString(strings.Repeat(" ", 1+r.IntN(3))) // trailing spaces
	}
	return []byte(b.String())
}

var valueKinds = []valueKind{
	{"int64", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		var n int64
		switch r.IntN(4) {
		case 0:
			n = int64(r.IntN(1_000_000)) // small ids, the usual case
		case 1:
			n = -int64(r.IntN(1_000_000))
		case 2:
			n = []int64{0, 1, -1, math.MaxInt64, math.MinInt64}[r.IntN(5)]
		default:
			n = int64(r.Uint64())
		}
		return both(sqltypes.Int64, vindex.Int64, strconv.AppendInt(nil, n, 10))
	}},
	{"uint64", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		n := r.Uint64()
		if r.IntN(3) == 0 {
			n = uint64(r.IntN(1_000_000))
		}
		return both(sqltypes.Uint64, vindex.Uint64, strconv.AppendUint(nil, n, 10))
	}},
	{"numeric-text", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		// Strings that are (or are almost) integers: how a quoted id reaches a vindex.
		forms := []string{"%d", " %d", "%d\t", "+%d", "-%d", "%d.0", "%dx", "0%d", "%d%d%d%d"}
		f := forms[r.IntN(len(forms))]
		n := r.IntN(1 << 20)
		s := strings.ReplaceAll(f, "%d", strconv.Itoa(n))
		if r.IntN(20) == 0 {
			s = "18446744073709551616" // one past uint64
		}
		return both(sqltypes.VarChar, vindex.VarChar, []byte(s))
	}},
	{"text", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		return both(sqltypes.VarChar, vindex.VarChar, genText(r, 24))
	}},
	{"binary", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return both(sqltypes.VarBinary, vindex.VarBinary, b)
	}},
	{"decimal", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		s := fmt.Sprintf("%d.%02d", r.IntN(100000)-50000, r.IntN(100))
		return both(sqltypes.Decimal, vindex.Decimal, []byte(s))
	}},
	{"float", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		f := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(30)))
		return both(sqltypes.Float64, vindex.Float64, strconv.AppendFloat(nil, f, 'g', -1, 64))
	}},
	{"null", func(r *rand.Rand) (sqltypes.Value, vindex.Value) {
		return both(sqltypes.Null, vindex.Null, nil)
	}},
}

// TestVindexIDsMatchVitess maps 100,000 values of each kind with each functional vindex,
// through Vitess's own vindex code and through package vindex, and wants the same keyspace
// id, the same "no keyspace id" and the same errors.
func TestVindexIDsMatchVitess(t *testing.T) {
	types := []string{"hash", "xxhash", "numeric", "binary", "binary_md5", "unicode_loose_md5", "unicode_loose_xxhash"}
	ctx := context.Background()
	for _, typ := range types {
		t.Run(typ, func(t *testing.T) {
			theirs, err := vindexes.CreateVindex(typ, typ, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, _, err := vindex.New(typ, typ, nil)
			if err != nil {
				t.Fatal(err)
			}
			ours := v.(vindex.Hashing)
			for _, kind := range valueKinds {
				t.Run(kind.name, func(t *testing.T) {
					r := rand.New(rand.NewPCG(42, uint64(len(typ)*31+len(kind.name))))
					mapped, none, failed := 0, 0, 0
					for i := range vindexValues {
						sv, ov := kind.gen(r)
						dests, theirErr := theirs.(vindexes.SingleColumn).Map(ctx, nil, []sqltypes.Value{sv})
						id, ourErr := ours.Hash(ov)
						switch {
						case theirErr != nil:
							if ourErr == nil || errors.Is(ourErr, vindex.ErrNoKeyspaceID) {
								t.Fatalf("value %d %v: Vitess fails (%v), we give %x, %v", i, sv, theirErr, id, ourErr)
							}
							failed++
						case len(dests) != 1:
							t.Fatalf("value %d %v: Vitess gives %d destinations", i, sv, len(dests))
						default:
							switch d := dests[0].(type) {
							case key.DestinationNone:
								if !errors.Is(ourErr, vindex.ErrNoKeyspaceID) {
									t.Fatalf("value %d %v: Vitess maps to no keyspace id, we give %x, %v", i, sv, id, ourErr)
								}
								none++
							case key.DestinationKeyspaceID:
								if ourErr != nil || !bytes.Equal(id, []byte(d)) {
									t.Fatalf("value %d %v: Vitess gives %x, we give %x, %v", i, sv, []byte(d), id, ourErr)
								}
								mapped++
							default:
								t.Fatalf("value %d %v: Vitess gives destination %T", i, sv, d)
							}
						}
					}
					t.Logf("%d values: %d mapped, %d to no keyspace id, %d errors, all as Vitess", vindexValues, mapped, none, failed)
				})
			}
		})
	}
}
