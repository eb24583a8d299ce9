package web

import (
	"context"
	"time"
)

// backgroundTimeout bounds one piece of work done after its answer.
const backgroundTimeout = time.Minute

// inBackground runs work after the answer, off the request, so that the
// answer's time tells nothing of what work does: a password reset for a
// known address mails a link, for an unknown one it does nothing, and the
// two must not be told apart by how long they take. work gets a context
// that keeps the request's values (its request id) but not its
// cancellation; a failure is logged as what. Drain waits for it.
func (s *Server) inBackground(ctx context.Context, what string, work func(ctx context.Context) error) {
	ctx = context.WithoutCancel(ctx)
	s.background.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, backgroundTimeout)
		defer cancel()
		if err := work(ctx); err != nil {
			s.logger.ErrorContext(ctx, what, "request_id", requestIDFrom(ctx), "error", err)
		}
	})
}

// Drain waits until the work started in the background (mail being sent)
// is done, or ctx ends. Call it after the HTTP server has shut down, so
// that no request starts more.
func (s *Server) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.background.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
