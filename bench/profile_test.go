package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProfileSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 1},
		{300 * time.Millisecond, 1},
		{time.Second, 1},
		{2 * time.Second, 2},
		{2500 * time.Millisecond, 3},
	}
	for _, tt := range tests {
		if got := profileSeconds(tt.d); got != tt.want {
			t.Errorf("profileSeconds(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

// TestGatewayProfiler checks the request the profiler sends, that it keeps one part per run,
// that a run without start adds nothing, and that a single part is written as is.
func TestGatewayProfiler(t *testing.T) {
	asked := make(chan string, 4) // the seconds of each request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" {
			http.NotFound(w, r)
			return
		}
		asked <- r.URL.Query().Get("seconds")
		w.Write([]byte("profile-bytes"))
	}))
	defer srv.Close()
	ctx := context.Background()
	p := newGatewayProfiler(strings.TrimPrefix(srv.URL, "http://"), 2500*time.Millisecond)

	if err := p.wait(); err != nil || len(p.parts) != 0 {
		t.Fatalf("wait without start: err %v, %d parts", err, len(p.parts))
	}
	p.start(ctx)
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if len(p.parts) != 1 || string(p.parts[0]) != "profile-bytes" {
		t.Fatalf("parts = %q", p.parts)
	}
	if len(asked) != 1 {
		t.Fatalf("%d requests, want 1", len(asked))
	}
	if s := <-asked; s != "3" {
		t.Fatalf("seconds asked = %q, want 3", s)
	}
	file := filepath.Join(t.TempDir(), "gw.pprof")
	if note, err := p.write(ctx, file); err != nil || note != "" {
		t.Fatalf("write: note %q, err %v", note, err)
	}
	if data, err := os.ReadFile(file); err != nil || !bytes.Equal(data, p.parts[0]) {
		t.Fatalf("written %q, %v", data, err)
	}
}

func TestGatewayProfilerErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Could not enable CPU profiling: cpu profiling already in use", http.StatusInternalServerError)
	}))
	defer srv.Close()
	ctx := context.Background()
	p := newGatewayProfiler(strings.TrimPrefix(srv.URL, "http://"), time.Second)
	p.start(ctx)
	err := p.wait()
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("wait err = %v, want the server's message", err)
	}
	if _, err := p.write(ctx, filepath.Join(t.TempDir(), "gw.pprof")); err == nil {
		t.Fatal("write with no parts: no error")
	}
}
