package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// denialStore is a DenialRecorder that keeps batches in memory; while
// stuck is open, it waits (a store that does not answer).
type denialStore struct {
	mu      sync.Mutex
	batches [][]portal.Denial
	pruned  []time.Time
	stuck   chan struct{}
}

func (s *denialStore) RecordDenials(ctx context.Context, ds []portal.Denial) error {
	if s.stuck != nil {
		select {
		case <-s.stuck:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, append([]portal.Denial(nil), ds...))
	return nil
}

func (s *denialStore) DeleteDenialsBefore(_ context.Context, t time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruned = append(s.pruned, t)
	return 0, nil
}

func (s *denialStore) recorded() (n, batches, largest int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		n += len(b)
		largest = max(largest, len(b))
	}
	return n, len(s.batches), largest
}

func testDenialLog(t *testing.T, s DenialRecorder, queue int) (*denialLog, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newDenialLog(s, newKeyCache(policyTestCatalog{}, 10, m), reg, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if queue > 0 {
		l.queue = make(chan queuedDenial, queue)
	}
	return l, reg
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

func TestDenialLogWritesBatchesAndFlushesOnStop(t *testing.T) {
	s := &denialStore{}
	l, _ := testDenialLog(t, s, 0)
	d := newDenial(403, "Forbidden", "ip_forbidden", nil)
	rt := &route{name: "orders", keyHeader: "Ocp-Apim-Subscription-Key"}
	r := httptest.NewRequest(http.MethodGet, "/orders/1", nil)
	// Queued before the writer starts: the first batch is full.
	for range 250 {
		l.record(r, "req", rt, &d, "caller 192.0.2.1 forbidden")
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := l.start(ctx)
	for range 30 {
		l.record(r, "req", rt, &d, "caller 192.0.2.1 forbidden")
	}
	cancel()
	wait()
	n, batches, largest := s.recorded()
	if n != 280 {
		t.Fatalf("%d denials recorded, want 280", n)
	}
	if largest > denialBatchSize || batches < 3 {
		t.Fatalf("%d batches, the largest of %d", batches, largest)
	}
	if len(s.pruned) == 0 || time.Since(s.pruned[0]) < DenialRetention {
		t.Fatalf("pruned before %v", s.pruned)
	}
}

func TestDenialLogNeverBlocksARequest(t *testing.T) {
	s := &denialStore{stuck: make(chan struct{})}
	l, reg := testDenialLog(t, s, 8)
	ctx, cancel := context.WithCancel(context.Background())
	wait := l.start(ctx)
	d := newDenial(401, "no", "missing_key", nil)
	rt := &route{name: "orders"}
	r := httptest.NewRequest(http.MethodGet, "/orders/1", nil)
	for range 1000 {
		l.record(r, "req", rt, &d, "")
	}
	// At most the queue and one batch in the writer's hands are kept.
	if dropped := counterValue(t, reg, "portico_gateway_denial_log_dropped_total"); dropped < 1000-8-denialBatchSize {
		t.Fatalf("%v dropped", dropped)
	}
	close(s.stuck)
	cancel()
	wait()
}

func TestDenialLogCountsFailedWrites(t *testing.T) {
	l, reg := testDenialLog(t, failingDenialStore{}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	wait := l.start(ctx)
	d := newDenial(401, "no", "missing_key", nil)
	r := httptest.NewRequest(http.MethodGet, "/orders/1", nil)
	for range 3 {
		l.record(r, "req", &route{name: "orders"}, &d, "")
	}
	cancel()
	wait()
	if n := counterValue(t, reg, "portico_gateway_denial_log_failed_total"); n != 3 {
		t.Fatalf("%v failed, want 3", n)
	}
}

type failingDenialStore struct{}

func (failingDenialStore) RecordDenials(context.Context, []portal.Denial) error {
	return errors.New("disk full")
}

func (failingDenialStore) DeleteDenialsBefore(context.Context, time.Time) (int, error) {
	return 0, nil
}
