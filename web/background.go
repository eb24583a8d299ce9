package web

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// backgroundTimeout bounds one piece of work done after its answer.
	backgroundTimeout = time.Minute
	// maxBackground bounds the work running after its answer at once:
	// the mail server connections the portal holds.
	maxBackground = 16
	// maxQueued bounds the work waiting for a worker. A queue this long
	// means the mail server is far behind: more work is dropped and
	// logged rather than kept in memory or done in its request, which
	// would make the answer's time tell what the work was.
	maxQueued = 1000
	// drainGrace is how long Drain waits, once its context has ended and
	// the work left was cancelled, for that work to return.
	drainGrace = 5 * time.Second
)

// background is the work a Server does after its answers: mail whose
// sending must not make an answer slower, or tell by its time whether it
// was sent. Work waits in a bounded queue for one of at most
// maxBackground workers, which start when there is work and stop when
// there is none.
type background struct {
	mu      sync.Mutex
	closed  bool // Drain has begun: work runs in its request
	workers int
	wg      sync.WaitGroup // the workers
	queue   chan job
	busy    atomic.Int64 // queued or running, for Idle
	// ctx ends when Drain gives up, cancelling the work left.
	ctx    context.Context
	cancel context.CancelFunc
}

type job struct {
	ctx  context.Context
	what string
	work func(ctx context.Context) error
	// dropped, if not nil, runs in place of work when the work is
	// dropped (the queue full, the server stopping): what must not be
	// left half done, such as an account whose confirmation is never
	// sent.
	dropped func(ctx context.Context)
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{queue: make(chan job, maxQueued), ctx: ctx, cancel: cancel}
}

// inBackground runs work after the answer, off the request, so that the
// answer's time tells nothing of what work does: a password reset for a
// known address mails a link, for an unknown one it does nothing, and the
// two must not be told apart by how long they take. work gets a context
// that keeps the request's values (its request id) but not its
// cancellation, ending after backgroundTimeout or when Drain gives up; a
// failure is logged as what. With the queue full the work is dropped and
// logged; once Drain has begun it runs in the request (the server is
// stopping; no answer is timed any more).
func (s *Server) inBackground(ctx context.Context, what string, work func(ctx context.Context) error) {
	s.inBackgroundOr(ctx, what, work, nil)
}

// inBackgroundOr is inBackground with dropped run, in the request, if the
// work is dropped because the queue is full (or, in a worker, because the
// server stopped before it ran).
func (s *Server) inBackgroundOr(ctx context.Context, what string, work func(ctx context.Context) error, dropped func(ctx context.Context)) {
	b := s.background
	j := job{ctx: context.WithoutCancel(ctx), what: what, work: work, dropped: dropped}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		s.runBackground(j)
		return
	}
	// Counted before it is queued, so that a worker finishing it at once
	// cannot make Idle see nothing to wait for while other work runs.
	b.busy.Add(1)
	select {
	case b.queue <- j:
	default:
		b.busy.Add(-1)
		b.mu.Unlock()
		s.dropBackground(j, "the queue of work after answers is full (is the mail server down?)")
		return
	}
	if b.workers < maxBackground {
		b.workers++
		b.wg.Add(1)
		go s.backgroundWorker()
	}
	b.mu.Unlock()
}

// backgroundWorker runs queued work until the queue is empty.
func (s *Server) backgroundWorker() {
	b := s.background
	defer b.wg.Done()
	for {
		select {
		case j := <-b.queue:
			if b.ctx.Err() != nil {
				// Drain gave up: the store is about to close.
				s.dropBackground(j, "the server stopped before it ran")
				b.busy.Add(-1)
				continue
			}
			ctx, cancel := context.WithCancel(j.ctx)
			stop := context.AfterFunc(b.ctx, cancel)
			s.runBackground(job{ctx: ctx, what: j.what, work: j.work})
			stop()
			cancel()
			b.busy.Add(-1)
		default:
			// Under the lock, so that work queued from here on finds
			// this worker gone and starts another.
			b.mu.Lock()
			if len(b.queue) > 0 {
				b.mu.Unlock()
				continue
			}
			b.workers--
			b.mu.Unlock()
			return
		}
	}
}

// dropBackground logs work that will not run, and runs its dropped.
func (s *Server) dropBackground(j job, why string) {
	s.logger.ErrorContext(j.ctx, j.what, "request_id", requestIDFrom(j.ctx), "error", "dropped: "+why)
	if j.dropped != nil {
		ctx, cancel := context.WithTimeout(j.ctx, drainGrace)
		defer cancel()
		j.dropped(ctx)
	}
}

// runBackground runs one piece of work within backgroundTimeout and logs
// its failure.
func (s *Server) runBackground(j job) {
	ctx, cancel := context.WithTimeout(j.ctx, backgroundTimeout)
	defer cancel()
	if err := j.work(ctx); err != nil {
		s.logger.ErrorContext(ctx, j.what, "request_id", requestIDFrom(ctx), "error", err)
	}
}

// Drain waits until the work queued or running after answers (mail) is
// done, or ctx ends; then it cancels what is left and waits a little for
// it to return, so that the caller can close the store. Call it after the
// HTTP server has shut down; work asked for after Drain has begun runs in
// its request.
func (s *Server) Drain(ctx context.Context) error {
	b := s.background
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	b.cancel()
	select {
	case <-done:
	case <-time.After(drainGrace):
	}
	return ctx.Err()
}

// Idle waits until no work is queued or running after answers, or ctx
// ends, without stopping new work as Drain does: for callers that must see
// what the answers they got have started (tests reading the mail sent).
func (s *Server) Idle(ctx context.Context) error {
	for s.background.busy.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}
