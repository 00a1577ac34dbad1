package vstream

import (
	"testing"

	querypb "vitess.io/vitess/go/vt/proto/query"
)

func TestCompareTyped(t *testing.T) {
	dec := &column{Type: querypb.Type_DECIMAL}
	flt := &column{Type: querypb.Type_FLOAT64}
	tm := &column{Type: querypb.Type_TIME}
	en := &column{Type: querypb.Type_ENUM, Values: []string{"z", "a"}}
	bin := &column{Type: querypb.Type_VARBINARY}
	u64 := &column{Type: querypb.Type_UINT64}
	tests := []struct {
		c    *column
		a, b string
		want int
	}{
		{dec, "9.00", "10.00", -1}, // bytewise it would be 1
		{dec, "-1.50", "-10.25", 1},
		{dec, "10.00", "10.0", 0},
		{dec, "123456789012345678901234567890.5", "123456789012345678901234567890.4", 1},
		{flt, "9E+00", "1.0E+01", -1},
		{flt, "1.5", "1.5E+00", 0},
		{tm, "-01:00:00", "00:00:00", -1},
		{tm, "100:00:00", "99:59:59.999999", 1},
		{tm, "12:34:56.5", "12:34:56.49", 1},
		{en, "z", "a", -1}, // member order, not text order
		{bin, "\x00\xff", "\x01", -1},
		{u64, "18446744073709551615", "9", 1},
	}
	for _, tt := range tests {
		if got := compareTyped(tt.c, []byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("%v: compare(%q, %q) = %d, want %d", tt.c.Type, tt.a, tt.b, got, tt.want)
		}
	}
}
