package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/prometheus/client_golang/prometheus"
)

// DenialRecorder keeps the gateway's refusals, so that a subscription's
// owner can see why a call was refused. portal.Store satisfies it.
type DenialRecorder interface {
	RecordDenials(ctx context.Context, ds []portal.Denial) error
	// DeleteDenialsBefore removes denials older than t.
	DeleteDenialsBefore(ctx context.Context, t time.Time) (int, error)
}

var _ DenialRecorder = portal.Store(nil)

const (
	// denialQueueSize bounds the denials waiting to be written. A request
	// never waits for the store: when the queue is full the denial is
	// dropped and counted.
	denialQueueSize = 4096
	// A batch is written when it is full or when the interval ends.
	denialBatchSize     = 100
	denialFlushInterval = 250 * time.Millisecond
	// denialBatchGap spaces full batches, so that a flood of refusals
	// cannot keep the store's one writer busy (at most 2,000 a second;
	// the rest are dropped and counted).
	denialBatchGap = 50 * time.Millisecond
	// DenialRetention is how long denials are kept; older ones are deleted
	// once an hour.
	DenialRetention    = 7 * 24 * time.Hour
	denialPruneEvery   = time.Hour
	denialWriteTimeout = 5 * time.Second
)

// queuedDenial is a denial waiting to be written. key is the caller's
// subscription key, kept only to find the subscription id when the check
// that refused ran before the key check; it is never recorded or logged.
type queuedDenial struct {
	portal.Denial
	key string
}

// denialLog writes the gateway's denials in batches from one goroutine.
// A nil *denialLog records nothing.
type denialLog struct {
	store   DenialRecorder
	keys    *keyCache
	log     *slog.Logger
	now     func() time.Time
	queue   chan queuedDenial
	dropped prometheus.Counter
	failed  prometheus.Counter
}

// newDenialLog returns nil when rec is nil.
func newDenialLog(rec DenialRecorder, keys *keyCache, reg prometheus.Registerer, log *slog.Logger, now func() time.Time) (*denialLog, error) {
	if rec == nil {
		return nil, nil
	}
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portico_gateway_denial_log_dropped_total",
		Help: "Denials not recorded because the queue to the store was full.",
	})
	failed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portico_gateway_denial_log_failed_total",
		Help: "Denials not recorded because the store refused the batch.",
	})
	var err error
	dropped, err = register(reg, dropped, err)
	failed, err = register(reg, failed, err)
	if err != nil {
		return nil, err
	}
	return &denialLog{
		store: rec, keys: keys, log: log, now: now,
		queue:   make(chan queuedDenial, denialQueueSize),
		dropped: dropped, failed: failed,
	}, nil
}

// record queues a denial without waiting. rt is nil when no API matched:
// such a 404 explains itself, concerns no subscription, and is what
// scanners produce by the thousand, so it is not recorded.
func (l *denialLog) record(r *http.Request, id string, rt *route, d *denial, detail string) {
	if l == nil || rt == nil {
		return
	}
	q := queuedDenial{
		Denial: portal.Denial{RequestID: id, At: l.now(), API: rt.name, Status: d.status, Reason: d.reason, Detail: detail},
		key:    rt.key(r),
	}
	select {
	case l.queue <- q:
	default:
		l.dropped.Inc()
	}
}

// start runs the writer until ctx ends, and returns a function that waits
// for its last batch to be written.
func (l *denialLog) start(ctx context.Context) (wait func()) {
	if l == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(ctx)
	}()
	return func() { <-done }
}

func (l *denialLog) run(ctx context.Context) {
	flush := time.NewTicker(denialFlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(denialPruneEvery)
	defer prune.Stop()
	l.prune(ctx)
	batch := make([]portal.Denial, 0, denialBatchSize)
	failing := false
	write := func(ctx context.Context) {
		if len(batch) == 0 {
			return
		}
		wctx, cancel := context.WithTimeout(ctx, denialWriteTimeout)
		err := l.store.RecordDenials(wctx, batch)
		cancel()
		switch {
		case err != nil:
			l.failed.Add(float64(len(batch)))
			if !failing {
				l.log.WarnContext(ctx, "gateway cannot record denials", "count", len(batch), "error", err)
				failing = true
			}
		case failing:
			l.log.InfoContext(ctx, "gateway records denials again")
			failing = false
		}
		clear(batch)
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			// The denials already queued are written, within a bound.
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), denialWriteTimeout)
			defer cancel()
		drain:
			for {
				select {
				case q := <-l.queue:
					batch = append(batch, l.resolve(final, q))
					if len(batch) == denialBatchSize {
						write(final)
					}
				default:
					break drain
				}
			}
			write(final)
			return
		case q := <-l.queue:
			batch = append(batch, l.resolve(ctx, q))
			if len(batch) == denialBatchSize {
				write(ctx)
				select {
				case <-ctx.Done():
				case <-time.After(denialBatchGap):
				}
			}
		case <-flush.C:
			write(ctx)
		case <-prune.C:
			l.prune(ctx)
		}
	}
}

// resolve fills the subscription id from the caller's key when the key
// identified a subscription, whatever its state or scope, so that its
// owner sees refusals that happened before or at the key check too.
func (l *denialLog) resolve(ctx context.Context, q queuedDenial) portal.Denial {
	if q.key == "" {
		return q.Denial
	}
	lctx, cancel := context.WithTimeout(ctx, keyLookupTimeout)
	defer cancel()
	if sub, err := l.keys.lookup(lctx, q.key); err == nil && sub != nil {
		q.SubscriptionID = sub.ID
	}
	return q.Denial
}

func (l *denialLog) prune(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, denialWriteTimeout)
	defer cancel()
	n, err := l.store.DeleteDenialsBefore(pctx, l.now().Add(-DenialRetention))
	switch {
	case err != nil && ctx.Err() == nil:
		l.log.WarnContext(ctx, "gateway cannot delete old denials", "error", err)
	case n > 0:
		l.log.DebugContext(ctx, "gateway deleted old denials", "count", n)
	}
}
