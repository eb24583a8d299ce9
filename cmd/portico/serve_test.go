package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// instance is a running `portico serve`.
type instance struct {
	t       *testing.T
	cmd     *exec.Cmd
	portal  string // http://127.0.0.1:port
	gateway string
	stdout  *lockedBuffer
	stderr  *lockedBuffer
	done    chan struct{}
	stopped bool
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPortico starts `portico serve` in dir on free loopback ports and
// waits until both listeners are ready. The test's cleanup stops it with
// SIGTERM and fails the test if it does not exit cleanly.
func startPortico(t *testing.T, dir string, env []string, args ...string) *instance {
	t.Helper()
	portalAddr, gatewayAddr := freeAddr(t), freeAddr(t)
	scheme := "http://"
	if slices.Contains(args, "--gateway-tls-cert") {
		scheme = "https://"
	}
	in := &instance{
		t:       t,
		portal:  "http://" + portalAddr,
		gateway: scheme + gatewayAddr,
		stdout:  &lockedBuffer{},
		stderr:  &lockedBuffer{},
		done:    make(chan struct{}),
	}
	args = append([]string{"serve", "--portal-addr", portalAddr, "--gateway-addr", gatewayAddr,
		"--public-url", in.portal, "--gateway-url", in.gateway}, args...)
	in.cmd = exec.Command(porticoBin, args...)
	in.cmd.Dir = dir
	in.cmd.Env = cleanEnv(env...)
	in.cmd.Stdout, in.cmd.Stderr = in.stdout, in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.cmd.Wait(); close(in.done) }()
	t.Cleanup(func() {
		if !in.stopped {
			if code := in.stop(); code != 0 {
				t.Errorf("portico exited with %d on SIGTERM; stderr:\n%s", code, in.stderr)
			}
		}
		if strings.Contains(in.stderr.String(), "panic") {
			t.Errorf("portico logged a panic:\n%s", in.stderr)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	// Readiness only: the gateway's certificate is checked by the tests
	// that call it.
	ready := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	for _, u := range []string{in.portal + "/readyz", in.gateway + "/readyz"} {
		for {
			res, err := ready.Get(u)
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					break
				}
			}
			select {
			case <-in.done:
				t.Fatalf("portico exited before it was ready:\n%s\n%s", in.stdout, in.stderr)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready after 20s:\n%s", u, in.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return in
}

// stop sends SIGTERM and returns the exit code.
func (in *instance) stop() int {
	in.stopped = true
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(40 * time.Second):
		in.cmd.Process.Kill()
		<-in.done
		in.t.Errorf("portico did not stop within 40s of SIGTERM")
	}
	return in.cmd.ProcessState.ExitCode()
}

// recordingBackend is a real backend on loopback that remembers what it
// received.
type recordingBackend struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newBackend(t *testing.T, h http.HandlerFunc) *recordingBackend {
	b := &recordingBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.reqs = append(b.reqs, r.Clone(r.Context()))
		b.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"backend":"orders","path":%q}`, r.URL.Path)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *recordingBackend) requests() []*http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*http.Request(nil), b.reqs...)
}

type gatewayAnswer struct {
	status int
	body   string
	header http.Header
}

func call(t *testing.T, method, url string, header ...string) gatewayAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return gatewayAnswer{res.StatusCode, string(b), res.Header}
}

// TestServeGateway starts the real binary with a config file applied at
// start and calls the gateway as an API consumer does.
func TestServeGateway(t *testing.T) {
	backend := newBackend(t, nil)
	dir := e2eDir(t)
	in := startPortico(t, dir, e2eEnv(backend.URL), "--config", "portico.yaml")

	missing := call(t, "GET", in.gateway+"/shop/orders/orders")
	if missing.status != 401 || !strings.Contains(missing.body, "missing subscription key") || missing.header.Get("X-Request-Id") == "" {
		t.Fatalf("no key: %d %q %v", missing.status, missing.body, missing.header)
	}
	var body struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	if err := json.Unmarshal([]byte(missing.body), &body); err != nil || body.StatusCode != 401 || missing.header.Get("Content-Type") != "application/json" {
		t.Fatalf("401 body %q is not the contract's JSON (%v)", missing.body, err)
	}
	if got := call(t, "GET", in.gateway+"/shop/orders/orders", "Ocp-Apim-Subscription-Key", "ffffffffffffffffffffffffffffffff"); got.status != 401 || !strings.Contains(got.body, "invalid subscription key") {
		t.Fatalf("unknown key: %d %q", got.status, got.body)
	}
	if got := call(t, "GET", in.gateway+"/shop/orders/nothing-here", "Ocp-Apim-Subscription-Key", ciKey); got.status != 404 || !strings.Contains(got.body, "Unable to match incoming request to an operation.") {
		t.Fatalf("unmatched operation: %d %q", got.status, got.body)
	}
	if got := call(t, "GET", in.gateway+"/nothing/here"); got.status != 404 || !strings.Contains(got.body, "Resource not found") {
		t.Fatalf("no API: %d %q", got.status, got.body)
	}
	if n := len(backend.requests()); n != 0 {
		t.Fatalf("the backend was called %d times by refused requests", n)
	}

	got := call(t, "GET", in.gateway+"/shop/orders/orders/o-1?subscription-key="+ciKey+"&x=1", "X-Request-Id", "trace-123")
	if got.status != 200 || got.body != `{"backend":"orders","path":"/orders/o-1"}` || got.header.Get("X-Request-Id") != "trace-123" {
		t.Fatalf("with a key in the query: %d %q %v", got.status, got.body, got.header)
	}
	reqs := backend.requests()
	if len(reqs) != 1 {
		t.Fatalf("backend saw %d requests, want 1", len(reqs))
	}
	if q := reqs[0].URL.RawQuery; q != "x=1" {
		t.Fatalf("backend query %q; the key parameter must be removed and x=1 kept", q)
	}
	if xff := reqs[0].Header.Get("X-Forwarded-For"); xff != "127.0.0.1" {
		t.Fatalf("X-Forwarded-For = %q", xff)
	}

	// An open API (subscription_required: false) passes without a key.
	if got := call(t, "GET", in.gateway+"/status/health"); got.status != 200 {
		t.Fatalf("open API: %d %q", got.status, got.body)
	}

	// Health and metrics on both listeners.
	for _, base := range []string{in.portal, in.gateway} {
		if got := call(t, "GET", base+"/healthz"); got.status != 200 {
			t.Fatalf("%s/healthz = %d", base, got.status)
		}
		if got := call(t, "GET", base+"/metrics"); got.status != 200 || !strings.Contains(got.body, "portico_gateway_requests_total") || !strings.Contains(got.body, "portico_portal_requests_total") {
			t.Fatalf("%s/metrics = %d, lacks the request metrics", base, got.status)
		}
	}
}

// TestGracefulShutdown checks that SIGTERM lets an in-flight request
// finish and the process exit 0.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{}, 1)
	backend := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	dir := e2eDir(t)
	in := startPortico(t, dir, e2eEnv(backend.URL), "--config", "portico.yaml")

	answer := make(chan gatewayAnswer, 1)
	go func() {
		answer <- call(t, "GET", in.gateway+"/shop/orders/orders", "Ocp-Apim-Subscription-Key", ciKey)
	}()
	<-started
	code := make(chan int, 1)
	go func() { code <- in.stop() }()
	got := <-answer
	if got.status != 200 || got.body != "finished" {
		t.Fatalf("in-flight request during shutdown: %d %q", got.status, got.body)
	}
	if c := <-code; c != 0 {
		t.Fatalf("exit code %d after SIGTERM; stderr:\n%s", c, in.stderr)
	}
	if !strings.Contains(in.stderr.String(), "shutting down") {
		t.Fatalf("no shutdown log:\n%s", in.stderr)
	}
}

// TestDemo checks `serve --demo` on an empty store: it prints the admin
// password once, serves the Echo API, and does not load again.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	in := startPortico(t, dir, nil, "--demo")
	out := in.stdout.String()
	password := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); len(line) == 26 && !strings.Contains(line, " ") {
			password = line
		}
	}
	if !strings.Contains(out, "admin@example.com") || password == "" {
		t.Fatalf("demo output lacks the admin and password:\n%s", out)
	}
	if got := call(t, "GET", in.gateway+"/echo/resources"); got.status != 401 {
		t.Fatalf("demo echo without key: %d %q", got.status, got.body)
	}
	if got := call(t, "GET", in.portal+"/apis/echo"); got.status != 200 || !strings.Contains(got.body, "Echo API") {
		t.Fatalf("demo API page: %d", got.status)
	}
	if got := call(t, "GET", in.portal+"/products/starter"); got.status != 200 || !strings.Contains(got.body, "Starter") {
		t.Fatalf("demo product page: %d", got.status)
	}
	if code := in.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	again := startPortico(t, dir, nil, "--demo")
	if strings.Contains(again.stdout.String(), password) || strings.Contains(again.stdout.String(), "Demo content loaded") {
		t.Fatalf("the demo loaded again on a non-empty store:\n%s", again.stdout)
	}
}
