package tabletserver

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// acquireAsync starts an acquire and returns where its outcome arrives.
func acquireAsync(q *quota, done <-chan struct{}, deadline time.Time) <-chan quotaResult {
	ch := make(chan quotaResult, 1) // the one outcome; never blocks the acquirer
	go func() {
		res, _ := q.acquire(done, deadline)
		ch <- res
	}()
	return ch
}

// waitWaiters waits until n acquires wait on q.
func waitWaiters(t *testing.T, q *quota, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q.mu.Lock()
		got := q.n
		q.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func outcome(t *testing.T, ch <-chan quotaResult) quotaResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the acquire did not return")
		return 0
	}
}

func TestQuotaFirstComeFirstServed(t *testing.T) {
	q := newQuota(1)
	far := time.Now().Add(time.Hour)
	if res, waited := q.acquire(nil, far); res != quotaOK || waited {
		t.Fatalf("free unit: %v waited=%v", res, waited)
	}
	var order []int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, _ := q.acquire(nil, far); res != quotaOK {
				t.Errorf("waiter %d: %v", i, res)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			q.release()
		}()
		waitWaiters(t, q, i+1) // queued in the order of i
	}
	if q.tryAcquire() {
		t.Fatal("tryAcquire jumped the queue")
	}
	q.release()
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("served in order %v, want 0..4", order)
		}
	}
	if _, used := q.counts(); used != 0 {
		t.Fatalf("%d units in use at the end", used)
	}
}

// TestQuotaDeadlines: waiters time out at their own deadline, also when a later waiter's
// deadline is earlier (a reload shortened the wait), and the others keep waiting.
func TestQuotaDeadlines(t *testing.T) {
	q := newQuota(1)
	q.acquire(nil, time.Now().Add(time.Hour))
	now := time.Now()
	long := acquireAsync(q, nil, now.Add(time.Hour))
	waitWaiters(t, q, 1)
	mid := acquireAsync(q, nil, now.Add(300*time.Millisecond))
	waitWaiters(t, q, 2)
	short := acquireAsync(q, nil, now.Add(50*time.Millisecond))
	if r := outcome(t, short); r != quotaTimeout {
		t.Fatalf("short: %v", r)
	}
	if time.Since(now) < 50*time.Millisecond {
		t.Fatal("short timed out before its deadline")
	}
	if r := outcome(t, mid); r != quotaTimeout {
		t.Fatalf("mid: %v", r)
	}
	if time.Since(now) < 300*time.Millisecond {
		t.Fatal("mid timed out before its deadline")
	}
	waitWaiters(t, q, 1)
	q.release()
	if r := outcome(t, long); r != quotaOK {
		t.Fatalf("long: %v", r)
	}
	if _, used := q.counts(); used != 1 {
		t.Fatalf("%d units in use, want the one long holds", used)
	}
}

func TestQuotaCancelCloseAndLimit(t *testing.T) {
	q := newQuota(1)
	far := time.Now().Add(time.Hour)
	q.acquire(nil, far)
	done := make(chan struct{})
	canceled := acquireAsync(q, done, far)
	waitWaiters(t, q, 1)
	kept := acquireAsync(q, nil, far)
	waitWaiters(t, q, 2)
	close(done)
	if r := outcome(t, canceled); r != quotaCanceled {
		t.Fatalf("canceled: %v", r)
	}
	q.setLimit(2) // frees a unit for the waiter left
	if r := outcome(t, kept); r != quotaOK {
		t.Fatalf("after a larger limit: %v", r)
	}
	closed := acquireAsync(q, nil, far)
	waitWaiters(t, q, 1)
	q.close()
	if r := outcome(t, closed); r != quotaClosed {
		t.Fatalf("after close: %v", r)
	}
	if res, waited := q.acquire(nil, far); res != quotaClosed || waited {
		t.Fatalf("acquire after close: %v waited=%v", res, waited)
	}
}

// TestQuotaRaces: many waiters that time out, give up or get a unit at the same moment lose
// no unit and take none twice.
func TestQuotaRaces(t *testing.T) {
	q := newQuota(3)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				done := make(chan struct{})
				deadline := time.Now().Add(time.Duration((i+j)%3) * time.Millisecond)
				if (i+j)%5 == 0 {
					close(done)
				}
				if res, _ := q.acquire(done, deadline); res == quotaOK {
					if _, used := q.counts(); used > 3 {
						t.Errorf("%d units in use, limit 3", used)
					}
					q.release()
				}
			}
		}()
	}
	wg.Wait()
	if _, used := q.counts(); used != 0 {
		t.Fatalf("%d units in use at the end", used)
	}
	if q.n != 0 || q.head != nil || q.tail != nil {
		t.Fatalf("waiters left: %d", q.n)
	}
}

// BenchmarkQuotaContended: many goroutines (64 per CPU) share one unit, as a thousand clients
// share a tablet's pool: nearly every acquire waits. Each holds its unit for a yield.
func BenchmarkQuotaContended(b *testing.B) {
	q := newQuota(1)
	b.SetParallelism(64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res, _ := q.acquire(nil, time.Now().Add(time.Minute)); res != quotaOK {
				b.Errorf("acquire: %v", res)
				return
			}
			runtime.Gosched()
			q.release()
		}
	})
}
