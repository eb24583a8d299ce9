package web

import (
	"context"
	"sync"
	"time"
)

const (
	// backgroundTimeout bounds one piece of work done after its answer.
	backgroundTimeout = time.Minute
	// maxBackground bounds the work running after its answer at once.
	// Past it, work runs in the request that asks for it: that caller
	// waits (and a flood slows itself down) rather than goroutines and
	// mail server connections piling up.
	maxBackground = 16
	// drainGrace is how long Drain waits, once its context has ended and
	// the work left was cancelled, for that work to return.
	drainGrace = 5 * time.Second
)

// background is the work a Server does after its answers: mail whose
// sending must not make an answer slower. Work started after Drain runs
// in its request, so that Drain never waits for work started after it
// began (sync.WaitGroup's rule) and the store is not closed under it.
type background struct {
	mu     sync.Mutex
	closed bool // Drain has begun
	wg     sync.WaitGroup
	slots  chan struct{}
	// ctx ends when Drain gives up, cancelling the work left.
	ctx    context.Context
	cancel context.CancelFunc
}

func newBackground() *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{slots: make(chan struct{}, maxBackground), ctx: ctx, cancel: cancel}
}

// inBackground runs work after the answer, off the request, so that the
// answer's time tells nothing of what work does: a password reset for a
// known address mails a link, for an unknown one it does nothing, and the
// two must not be told apart by how long they take. work gets a context
// that keeps the request's values (its request id) but not its
// cancellation, ending after backgroundTimeout or when Drain gives up; a
// failure is logged as what. With maxBackground pieces of work running,
// or once Drain has begun, work runs in the request instead.
func (s *Server) inBackground(ctx context.Context, what string, work func(ctx context.Context) error) {
	b := s.background
	ctx = context.WithoutCancel(ctx)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		s.runBackground(ctx, what, work)
		return
	}
	select {
	case b.slots <- struct{}{}:
	default:
		b.mu.Unlock()
		s.runBackground(ctx, what, work)
		return
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		defer func() { <-b.slots }()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(b.ctx, cancel)
		defer stop()
		s.runBackground(ctx, what, work)
	}()
}

// runBackground runs one piece of work within backgroundTimeout and logs
// its failure.
func (s *Server) runBackground(ctx context.Context, what string, work func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(ctx, backgroundTimeout)
	defer cancel()
	if err := work(ctx); err != nil {
		s.logger.ErrorContext(ctx, what, "request_id", requestIDFrom(ctx), "error", err)
	}
}

// Drain waits until the work started in the background (mail being sent)
// is done, or ctx ends; then it cancels what is left and waits a little
// for it to return, so that the caller can close the store. Call it after
// the HTTP server has shut down; work asked for after Drain has begun
// runs in its request.
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

// Idle waits until no work runs in the background, or ctx ends, without
// stopping new work as Drain does: for callers that must see what the
// answers they got have started (tests reading the mail sent).
func (s *Server) Idle(ctx context.Context) error {
	for len(s.background.slots) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}
