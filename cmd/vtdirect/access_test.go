package main

import (
	"strings"
	"testing"

	"github.com/vtdirect/vtdirect/acl"
)

func TestParseStaticAccess(t *testing.T) {
	ua, err := parseStaticAccess([]byte(`{
	  "app":    [{"Password": "a", "Keyspaces": {"commerce": "write"}}],
	  "report": [{"Password": "r", "Groups": ["analysts"], "Keyspaces": {"commerce": "read"}, "TabletTypes": ["replica", "rdonly"], "MaxConnections": 20}],
	  "ops":    {"Password": "o", "Admin": true}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if ua.rules["app"].Keyspaces["commerce"] != acl.Write || !ua.rules["ops"].Admin || ua.rules["app"].Admin {
		t.Fatalf("rules %+v", ua.rules)
	}
	if ua.maxConns["report"] != 20 || len(ua.rules["report"].TabletTypes) != 2 {
		t.Fatalf("report: %+v, max %v", ua.rules["report"], ua.maxConns)
	}
	// a misspelt rule must not leave a user with every right
	for _, bad := range []string{
		`{"app": [{"Password": "a", "Keyspace": {"commerce": "read"}}]}`,
		`{"app": [{"Password": "a", "Keyspaces": {"commerce": "reed"}}]}`,
		`{"app": [{"Password": "a", "TabletTypes": ["primry"]}]}`,
		`{"app": [{"Password": "a"}, {"Password": "b", "Admin": true}]}`,
	} {
		if _, err := parseStaticAccess([]byte(bad)); err == nil || !strings.Contains(err.Error(), "app") {
			t.Errorf("%s: error %v, want one naming the user", bad, err)
		}
	}
}
