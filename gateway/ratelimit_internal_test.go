package gateway

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

func newTestRateLimiter(t *testing.T) *rateLimiter {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return newRateLimiter(m)
}

// TestRateLimiterForgetsEndedWindows: the windows of subscriptions that
// stopped calling are dropped as new ones arrive, so memory follows the
// subscriptions active within one period, not all that ever called.
func TestRateLimiterForgetsEndedWindows(t *testing.T) {
	r := newTestRateLimiter(t)
	l := newRateLimit("product", "gold", &portal.RateLimit{Calls: 5, Period: time.Second})
	const old, fresh = 10_000, 20_000
	for sub := range int64(old) {
		if _, ok := r.take(sub, l, 0); !ok {
			t.Fatalf("sub %d refused", sub)
		}
	}
	if n := r.size(); n != old {
		t.Fatalf("%d windows, want %d", n, old)
	}
	later := int64(2 * time.Second) // every old window has ended
	for sub := range int64(fresh) {
		if _, ok := r.take(old+sub, l, later); !ok {
			t.Fatalf("sub %d refused", old+sub)
		}
	}
	if n := r.size(); n != fresh {
		t.Fatalf("%d windows after the old ones ended, want %d (the live ones)", n, fresh)
	}
}

// TestRateLimiterConcurrent: many goroutines on one counter, and others on
// their own, get exactly the limit.
func TestRateLimiterConcurrent(t *testing.T) {
	r := newTestRateLimiter(t)
	l := newRateLimit("api", "echo", &portal.RateLimit{Calls: 1000, Period: time.Minute})
	var shared, own atomic.Int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for range 200 {
				if _, ok := r.take(1, l, 0); ok {
					shared.Add(1)
				}
				if _, ok := r.take(int64(100+g), l, 0); ok {
					own.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if shared.Load() != 1000 {
		t.Fatalf("%d calls passed on the shared counter, want 1000", shared.Load())
	}
	if own.Load() != 16*200 {
		t.Fatalf("%d calls passed on own counters, want all %d", own.Load(), 16*200)
	}
}
