package picker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock records each backoff a waiter asks for and lets the test decide
// when it fires.
type fakeClock struct {
	asked chan time.Duration // one value per After call; buffered so the waiter never blocks on it
	fire  chan time.Time     // what After returns
}

func newFakeClock() *fakeClock {
	return &fakeClock{asked: make(chan time.Duration, 100), fire: make(chan time.Time)}
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	f.asked <- d
	return f.fire
}

func TestWaiterTabletAppears(t *testing.T) {
	empty := NewSnapshot(nil, testTopo())
	feed := NewFeed(empty)
	clock := newFakeClock() // never fires: only the feed can wake the waiter
	w, err := NewWaiter(feed, WaiterConfig{After: clock.After})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCompile(t, Options{LocalCell: "zone1", TabletTypes: "REPLICA"})

	type result struct {
		t   *TabletInfo
		err error
	}
	done := make(chan result, 1) // the waiter's one result
	go func() {
		ti, err := w.Pick(context.Background(), "ks", "0", c, nil)
		done <- result{ti, err}
	}()
	<-clock.asked // the first attempt missed; the waiter is waiting now
	feed.Publish(NewSnapshot([]TabletInfo{tab("zone2-201", replica)}, testTopo()))
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := AliasOf(r.t.Tablet.Alias).String(); got != "zone2-201" {
		t.Errorf("picked %s, want zone2-201", got)
	}
}

func TestWaiterBackoff(t *testing.T) {
	var snaps []*Snapshot
	for range 9 {
		snaps = append(snaps, NewSnapshot(nil, testTopo()))
	}
	snaps = append(snaps, NewSnapshot([]TabletInfo{tab("zone1-101", replica)}, testTopo()))
	calls := 0
	src := SourceFunc(func() *Snapshot { s := snaps[min(calls, len(snaps)-1)]; calls++; return s })

	var asked []time.Duration
	fired := make(chan time.Time, 1) // always ready, so each backoff ends at once
	after := func(d time.Duration) <-chan time.Time {
		asked = append(asked, d)
		fired <- time.Time{}
		return fired
	}
	w, err := NewWaiter(src, WaiterConfig{MinBackoff: 10 * time.Millisecond, MaxBackoff: 500 * time.Millisecond, After: after})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCompile(t, Options{LocalCell: "zone1", TabletTypes: "REPLICA"})
	if _, err := w.Pick(context.Background(), "ks", "0", c, nil); err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	want := []time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 500 * ms, 500 * ms, 500 * ms}
	if !slices.Equal(asked, want) {
		t.Errorf("backoffs %v, want %v", asked, want)
	}
}

func TestWaiterGivesUp(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if m2, err := NewMetrics(reg); err != nil || m2.misses != m.misses {
		t.Fatalf("registering twice: %v, same counters %v", err, m2 != nil && m2.misses == m.misses)
	}
	snap := NewSnapshot([]TabletInfo{tab("zone1-101", replica, unreachable), tab("zone1-100", primary)}, testTopo())
	clock := newFakeClock()
	w, err := NewWaiter(SourceFunc(func() *Snapshot { return snap }), WaiterConfig{After: clock.After, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCompile(t, Options{LocalCell: "zone1", Cells: []string{"zone1", "zone3"}, TabletTypes: "REPLICA"})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1) // the waiter's one result
	go func() {
		_, err := w.Pick(ctx, "ks", "0", c, nil)
		done <- err
	}()
	<-clock.asked
	clock.fire <- time.Time{} // one more miss, still counted once
	<-clock.asked
	cancel()
	err = <-done

	var nt *NoTabletError
	if !errors.As(err, &nt) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want a NoTabletError caused by context.Canceled", err)
	}
	for _, s := range []string{
		"vtdirect: no healthy tablet for ks/0 (types REPLICA, cells local zone1 > local alias zone2 > specified zone3)",
		"zone1-100 PRIMARY: wrong type (want REPLICA)",
		"zone1-101 REPLICA: unhealthy: dial tcp: connection refused",
		"gave up waiting: context canceled",
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q\n does not contain %q", err, s)
		}
	}
	if got := counterValue(t, reg, map[string]string{"keyspace": "ks", "shard": "0", "types": "REPLICA", "cells": "zone1,zone3"}); got != 1 {
		t.Errorf("misses = %v, want 1", got)
	}
}

func TestWaiterConfig(t *testing.T) {
	if _, err := NewWaiter(SourceFunc(func() *Snapshot { return nil }), WaiterConfig{MinBackoff: time.Second, MaxBackoff: time.Millisecond}); err == nil {
		t.Error("max < min accepted")
	}
	if _, err := NewWaiter(SourceFunc(func() *Snapshot { return nil }), WaiterConfig{MinBackoff: -1}); err == nil {
		t.Error("negative backoff accepted")
	}
}

func TestMetricsNil(t *testing.T) {
	var m *Metrics
	m.Miss("ks", "0", mustCompile(t, Options{LocalCell: "zone1"})) // must not panic
}

func counterValue(t *testing.T, reg *prometheus.Registry, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != MissesMetricName {
			continue
		}
	next:
		for _, metric := range mf.GetMetric() {
			for _, lp := range metric.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			return metric.GetCounter().GetValue()
		}
	}
	return 0
}

func TestWaiterNilCriteria(t *testing.T) {
	w, err := NewWaiter(NewFeed(nil), WaiterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Pick(context.Background(), "ks", "0", nil, nil)
	var ia *InvalidArgumentError
	if !errors.As(err, &ia) {
		t.Fatalf("error %v, want *InvalidArgumentError at once", err)
	}
}

func TestWaiterHitAllocatesNothing(t *testing.T) {
	feed := NewFeed(tinySnapshot())
	w, err := NewWaiter(feed, WaiterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := mustCompile(t, Options{LocalCell: "zone1", TabletTypes: "REPLICA"})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := w.Pick(ctx, "ks", "0", c, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocs per waiter hit, want 0", allocs)
	}
}
