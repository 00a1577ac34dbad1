package router

import "testing"

func TestLikeMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"commerce/%", "commerce/0", true},
		{"commerce/%", "commerce/-80", true},
		{"commerce/%", "customer/0", false},
		{"%", "", true},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"COMMERCE/%", "commerce/0", true},
		{`a\%b`, "a%b", true},
		{`a\%b`, "axb", false},
		{"%-80", "customer/-80", true},
		{"%%x%%", "abxcd", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := likeMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("likeMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestShowTablesFrom(t *testing.T) {
	tests := []struct {
		q, db, rest string
		ok          bool
	}{
		{"SHOW TABLES FROM commerce", "commerce", "SHOW TABLES", true},
		{"/*vt+ WORKLOAD_NAME=debezium */ SHOW TABLES FROM commerce", "commerce", "SHOW TABLES", true},
		{"show full tables in `commerce` like 'c%'", "commerce", "SHOW full tables like 'c%'", true},
		{"show tables", "", "", false},
		{"show databases", "", "", false},
		{"select 1", "", "", false},
	}
	for _, tt := range tests {
		db, rest, ok := showTablesFrom([]byte(tt.q))
		if ok != tt.ok || db != tt.db || (ok && string(rest) != tt.rest) {
			t.Errorf("showTablesFrom(%q) = %q, %q, %v; want %q, %q, %v", tt.q, db, rest, ok, tt.db, tt.rest, tt.ok)
		}
	}
}
