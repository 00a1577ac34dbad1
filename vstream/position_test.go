package vstream

import "testing"

func TestParsePosition(t *testing.T) {
	tests := []struct {
		in, out string
		bad     bool
	}{
		{in: "MariaDB/0-100-42", out: "MariaDB/0-100-42"},
		{in: "MariaDB/1-200-7,0-100-42", out: "MariaDB/0-100-42,1-200-7"},
		{in: "MariaDB/", out: "MariaDB/"},
		{in: "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9", out: "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9"},
		{in: "0-100-42", bad: true},
		{in: "MariaDB/0-100", bad: true},
		{in: "MariaDB/a-b-c", bad: true},
		{in: "Postgres/1", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePosition(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParsePosition(%q) = %v, want error", tt.in, p)
				}
				return
			}
			if err != nil || p.String() != tt.out {
				t.Fatalf("ParsePosition(%q) = %q, %v; want %q", tt.in, p, err, tt.out)
			}
		})
	}
}

func TestPositionAtLeast(t *testing.T) {
	mk := func(s string) Position {
		p, err := ParsePosition(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"MariaDB/0-100-42", "MariaDB/0-100-41", true},
		{"MariaDB/0-100-42", "MariaDB/0-100-42", true},
		{"MariaDB/0-100-41", "MariaDB/0-100-42", false},
		{"MariaDB/0-101-43", "MariaDB/0-100-42", true}, // a failover changes the server id, not the order
		{"MariaDB/0-100-42", "MariaDB/0-100-1,1-5-1", false},
		{"MariaDB/0-100-42,1-5-3", "MariaDB/1-5-1", true},
		{"MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9", "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", true},
		{"MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9", false},
		{"MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "MariaDB/0-1-1", false},
	}
	for _, tt := range tests {
		if got := mk(tt.a).AtLeast(mk(tt.b)); got != tt.want {
			t.Errorf("%s AtLeast %s = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	p := mk("MariaDB/0-100-42")
	q := p.withMariaGTID(mariaGTID{Domain: 0, Server: 101, Seq: 43})
	if p.String() != "MariaDB/0-100-42" || q.String() != "MariaDB/0-101-43" {
		t.Fatalf("withMariaGTID changed its receiver or failed: %s %s", p, q)
	}
	r, err := p.withMySQLGTID("3e11fa47-71ca-11e1-9e33-c80aa9429562:1")
	if err != nil || r.String() != "MySQL56/3e11fa47-71ca-11e1-9e33-c80aa9429562:1" {
		t.Fatalf("withMySQLGTID = %s, %v", r, err)
	}
}

func TestPositionSame(t *testing.T) {
	for _, tc := range []struct {
		a, b        string
		equal, same bool
	}{
		{"MariaDB/0-1-100", "MariaDB/0-1-100", true, true},
		{"MariaDB/0-1-100", "MariaDB/0-2-100", true, false}, // another history after a failover
		{"MariaDB/0-1-100,1-5-7", "MariaDB/0-1-100,1-5-7", true, true},
		{"MariaDB/0-1-100", "MariaDB/0-1-101", false, false},
	} {
		a, err := ParsePosition(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParsePosition(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if a.Equal(b) != tc.equal || a.Same(b) != tc.same {
			t.Errorf("%s vs %s: Equal %v Same %v, want %v %v", tc.a, tc.b, a.Equal(b), a.Same(b), tc.equal, tc.same)
		}
	}
}
