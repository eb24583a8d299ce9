package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

func newBackgroundServer() *Server {
	return &Server{logger: slog.New(slog.NewTextHandler(io.Discard, nil)), background: newBackground()}
}

// TestBackgroundFullRunsInline: with every slot taken, work runs in the
// request that asks for it, so that a flood waits for itself instead of
// piling up goroutines.
func TestBackgroundFullRunsInline(t *testing.T) {
	s := newBackgroundServer()
	release := make(chan struct{})
	started := make(chan struct{}, maxBackground)
	for range maxBackground {
		s.inBackground(context.Background(), "hold", func(ctx context.Context) error {
			started <- struct{}{}
			<-release
			return nil
		})
	}
	for range maxBackground {
		<-started
	}
	ran := false
	s.inBackground(context.Background(), "inline", func(ctx context.Context) error {
		ran = true
		return nil
	})
	if !ran {
		t.Fatal("with every slot taken, the work did not run before inBackground returned")
	}
	close(release)
	if err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestBackgroundDrain: Drain waits for the work running; work asked for
// after Drain began runs in its request; when Drain's context ends, the
// work left is cancelled and Drain returns soon after.
func TestBackgroundDrain(t *testing.T) {
	s := newBackgroundServer()
	finished := make(chan struct{})
	s.inBackground(context.Background(), "short", func(ctx context.Context) error {
		time.Sleep(20 * time.Millisecond)
		close(finished)
		return nil
	})
	if err := s.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-finished:
	default:
		t.Fatal("Drain returned before the work finished")
	}
	ran := false
	s.inBackground(context.Background(), "after drain", func(ctx context.Context) error {
		ran = true
		return nil
	})
	if !ran {
		t.Fatal("work asked for after Drain did not run in its request")
	}

	s = newBackgroundServer()
	cancelled := make(chan error, 1)
	s.inBackground(context.Background(), "stuck", func(ctx context.Context) error {
		<-ctx.Done()
		cancelled <- ctx.Err()
		return ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Drain(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain of stuck work = %v, want the deadline", err)
	}
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the stuck work ended with %v, want cancelled", err)
		}
	default:
		t.Fatal("Drain gave up without cancelling the work left")
	}
}
