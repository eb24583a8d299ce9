package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Environment variables that steer the helper.
const (
	// RequireEnv, when set to anything, turns a missing browser from a
	// skipped test into a failed one.
	RequireEnv = "PORTICO_REQUIRE_BROWSER"
	// ChromiumEnv names the browser binary to run.
	ChromiumEnv = "PORTICO_CHROMIUM"
	// ScreenshotsEnv names a folder for Screenshot's PNG files.
	ScreenshotsEnv = "PORTICO_SCREENSHOTS"
)

// Timeout bounds one browser's life, so that a hung page fails the test
// instead of stalling the run.
const Timeout = 2 * time.Minute

// candidates are looked for in order when ChromiumEnv is unset. Debian's
// package installs /usr/bin/chromium.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ExecPath returns the browser to run and whether one was found.
func ExecPath() (string, bool) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		return p, true
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, true
		}
	}
	return "", false
}

// New starts a headless browser with a new, temporary profile and returns
// the chromedp context of its first tab. Everything stops when the test
// ends. It skips the test when no browser is installed, or fails it when
// RequireEnv is set.
func New(t testing.TB) context.Context {
	t.Helper()
	path, ok := ExecPath()
	if !ok {
		msg := fmt.Sprintf("no Chromium found (looked for $%s and %s); install it (apt-get install chromium) to run browser tests", ChromiumEnv, strings.Join(candidates, ", "))
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s, and $%s is set", msg, RequireEnv)
		}
		t.Skip(msg)
	}
	// Not t.TempDir: Chromium may still be writing to its profile for a
	// moment after it is told to stop, and a failed removal must not fail
	// the test.
	profile, err := os.MkdirTemp("", "portico-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	parent, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// /dev/shm is small in containers; Chromium crashes when it fills.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
		cancelTimeout()
		os.RemoveAll(profile)
	})
	// Start the browser now, so that a browser that cannot start is
	// reported here and not by the test's first action.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// Console collects the messages of one tab: console API calls, uncaught
// exceptions, and browser log entries such as failed loads and
// Content-Security-Policy violations. It is safe for concurrent use.
type Console struct {
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// Watch starts collecting the console of the tab of ctx. Call it before
// navigating: messages written earlier are lost.
func Watch(t testing.TB, ctx context.Context) *Console {
	t.Helper()
	c := &Console{}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	messages := chromedp.Console(ctx) // subscribes now
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.messages = append(c.messages, m)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

// Messages returns every message so far.
func (c *Console) Messages() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.messages)
}

// Problems returns the messages a clean page never causes: errors and
// uncaught exceptions, and any warning or entry from the browser's security
// checks (which is where Content-Security-Policy violations appear).
func (c *Console) Problems() []chromedp.ConsoleMessage {
	var out []chromedp.ConsoleMessage
	for _, m := range c.Messages() {
		if IsProblem(m) {
			out = append(out, m)
		}
	}
	return out
}

// IsProblem reports whether m is an error, an exception, a warning, or a
// security or CSP message.
func IsProblem(m chromedp.ConsoleMessage) bool {
	switch {
	case m.Type == chromedp.ConsoleError, m.Type == chromedp.ConsoleException, m.Type == chromedp.ConsoleWarning:
		return true
	case m.Source == "security" || m.Source == "violation":
		return true
	case strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy"):
		return true
	}
	return false
}

// AssertClean fails the test when the console holds any problem that none
// of expected matches. It waits a moment first: the browser reports some
// messages (failed loads, CSP reports) shortly after the action that
// caused them returns.
func (c *Console) AssertClean(t testing.TB, expected ...func(chromedp.ConsoleMessage) bool) {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
next:
	for _, m := range c.Problems() {
		for _, ok := range expected {
			if ok(m) {
				continue next
			}
		}
		t.Errorf("browser console: %s (source %q, %s:%d)", m, m.Source, m.URL, m.Line+1)
	}
}

// FailedLoad matches the browser's report of an error status for url, for
// a test that visits an error page on purpose.
func FailedLoad(url string) func(chromedp.ConsoleMessage) bool {
	return func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && m.URL == url && strings.HasPrefix(m.Text, "Failed to load resource")
	}
}

// ColorScheme emulates prefers-color-scheme: "light" or "dark".
func ColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// Screenshot writes a full-page PNG of the tab to $PORTICO_SCREENSHOTS/name.png
// and returns its path, or does nothing and returns "" when the variable is
// unset.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		return ""
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
