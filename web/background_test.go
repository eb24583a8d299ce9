package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncWriter is a log destination safe for the workers' goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func newBackgroundServer(logs *syncWriter) *Server {
	return &Server{logger: slog.New(slog.NewTextHandler(logs, nil)), background: newBackground()}
}

// TestBackgroundQueue: at most maxBackground pieces of work run at once;
// more wait in the queue (inBackground never runs them in the request,
// whose time would then tell what the work was), and past the queue's
// bound work is dropped and logged. Idle waits for the queue to empty.
func TestBackgroundQueue(t *testing.T) {
	logs := &syncWriter{}
	s := newBackgroundServer(logs)
	release := make(chan struct{})
	started := make(chan struct{}, maxBackground+1)
	var running, peak, ran atomic.Int64
	hold := func(ctx context.Context) error {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		started <- struct{}{}
		<-release
		running.Add(-1)
		ran.Add(1)
		return nil
	}
	for range maxBackground + 1 {
		s.inBackground(context.Background(), "hold", hold)
	}
	for range maxBackground {
		<-started
	}
	select {
	case <-started:
		t.Fatalf("more than %d pieces of work started at once", maxBackground)
	case <-time.After(50 * time.Millisecond):
	}
	// The queue holds the one waiting; fill it to its bound.
	for range maxQueued - 1 {
		s.inBackground(context.Background(), "queued", func(context.Context) error { ran.Add(1); return nil })
	}
	returned := make(chan struct{})
	var undone atomic.Bool
	go func() {
		s.inBackgroundOr(context.Background(), "one too many", func(context.Context) error { ran.Add(1); return nil },
			func(context.Context) { undone.Store(true) })
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("inBackground with a full queue did not return")
	}
	if !strings.Contains(logs.String(), "one too many") || !strings.Contains(logs.String(), "dropped") {
		t.Fatalf("the dropped work was not logged:\n%s", logs.String())
	}
	if !undone.Load() {
		t.Fatal("the dropped work's clean-up did not run")
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := ran.Load(), int64(maxBackground+maxQueued); got != want {
		t.Fatalf("%d pieces of work ran, want %d (all but the dropped one)", got, want)
	}
	if peak.Load() > maxBackground {
		t.Fatalf("%d ran at once", peak.Load())
	}
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBackgroundDrain: Drain waits for the work queued and running; work
// asked for after Drain began runs in its request; when Drain's context
// ends, the work left is cancelled and Drain returns soon after.
func TestBackgroundDrain(t *testing.T) {
	s := newBackgroundServer(&syncWriter{})
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

	s = newBackgroundServer(&syncWriter{})
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
