package gateway

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGuardDebug(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	public := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 15000}
	loop := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 15000}
	const token = "0123456789abcdef0123"
	cases := []struct {
		name  string
		addr  net.Addr
		token string
		path  string
		auth  string
		want  int
	}{
		{"loopback, no token", loop, "", "/debug/pprof/", "", http.StatusOK},
		{"public, no token configured", public, "", "/debug/status", "", http.StatusForbidden},
		{"public, metrics stay open", public, "", "/metrics", "", http.StatusOK},
		{"public, healthz stays open", public, "", "/healthz", "", http.StatusOK},
		{"public, no header", public, token, "/debug/failover", "", http.StatusUnauthorized},
		{"public, wrong token", public, token, "/debug/failover", "Bearer nope", http.StatusUnauthorized},
		{"public, right token", public, token, "/debug/failover", "Bearer " + token, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			guardDebug(ok, tc.addr, tc.token).ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.want, w.Body)
			}
		})
	}
}
