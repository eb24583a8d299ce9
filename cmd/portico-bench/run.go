package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/porticoapi/portico/internal/loadgen"
)

type options struct {
	portico  string
	rounds   int
	duration time.Duration
	conns    int
	apis     int
	tokens   int
}

// benchKey is the subscription key the gateway configurations use.
const benchKey = "0123456789abcdef0123456789abcdef"

// secret keeps the bench's store independent of any secret file.
const secret = "5eb63bbbe01eeed093cb22bb8f5acdc35eb63bbbe01eeed093cb22bb8f5acdc3"

func run(ctx context.Context, o options) error {
	portico, err := filepath.Abs(o.portico)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "portico-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	procs := &processes{dir: dir}
	defer procs.stopAll()

	fmt.Printf("portico-bench: %d rounds x %s per configuration, %d connections, on loopback\n\n", o.rounds, o.duration, o.conns)

	backend := freeAddr()
	if _, err := procs.start(ctx, "backend", self, nil, "backend", backend); err != nil {
		return err
	}
	bare := freeAddr()
	if _, err := procs.start(ctx, "bareproxy", self, nil, "bareproxy", bare, "http://"+backend); err != nil {
		return err
	}
	if err := waitOK(ctx, "http://"+backend+"/"); err != nil {
		return err
	}
	if err := waitOK(ctx, "http://"+bare+"/"); err != nil {
		return err
	}

	// Start-up to ready on an empty store, migrations included.
	var startups []time.Duration
	for i := 0; i < 3; i++ {
		d, err := measureStartup(ctx, procs, portico, filepath.Join(dir, fmt.Sprintf("empty-%d.db", i)))
		if err != nil {
			return fmt.Errorf("start-up: %w", err)
		}
		startups = append(startups, d)
	}

	// Tokens for validate_jwt: one to repeat, and a pool so that every
	// request of the "fresh token" configuration carries a token the
	// gateway has not seen.
	issuer, err := newTokenIssuer()
	if err != nil {
		return err
	}
	mintStart := time.Now()
	repeated := issuer.mint(0)
	pool := issuer.mintMany(o.tokens)
	fmt.Printf("minted %d RS256 tokens in %s\n\n", o.tokens, time.Since(mintStart).Round(time.Millisecond))

	// A store with the catalogue and the bench subscription.
	db := filepath.Join(dir, "bench.db")
	cfg := filepath.Join(dir, "bench.yaml")
	if err := os.WriteFile(cfg, benchConfig(o.apis, "http://"+backend, issuer.publicPEM), 0o600); err != nil {
		return err
	}
	applyStart := time.Now()
	apply := exec.CommandContext(ctx, portico, "apply", "-f", cfg)
	// The same secret as serve, or the keys would be hashed with another.
	apply.Env, apply.Dir = append(os.Environ(), porticoEnv(db)...), dir
	if out, err := apply.CombinedOutput(); err != nil {
		return fmt.Errorf("portico apply: %v\n%s", err, out)
	}
	applyTime := time.Since(applyStart)

	portalAddr, gatewayAddr := freeAddr(), freeAddr()
	p, err := procs.start(ctx, "portico", portico, porticoEnv(db), "serve", "--portal-addr", portalAddr, "--gateway-addr", gatewayAddr)
	if err != nil {
		return err
	}
	if err := waitOK(ctx, "http://"+portalAddr+"/readyz"); err != nil {
		return err
	}
	if err := waitOK(ctx, "http://"+gatewayAddr+"/readyz"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	rssIdle := rss(p.Process.Pid)

	page, err := fetch(ctx, "http://"+portalAddr+"/apis")
	if err != nil {
		return err
	}
	pageFile := filepath.Join(dir, "apis.html")
	if err := os.WriteFile(pageFile, page, 0o600); err != nil {
		return err
	}
	static := freeAddr()
	if _, err := procs.start(ctx, "static", self, nil, "static", static, pageFile); err != nil {
		return err
	}
	if err := waitOK(ctx, "http://"+static+"/"); err != nil {
		return err
	}

	keyHeader := "Ocp-Apim-Subscription-Key: " + benchKey
	// Each baseline sends the bare proxy the same header lines as its
	// subject sends the gateway (which forwards all but the key), so the
	// ratio measures the gateway's work, not the size of the request.
	bearer := "Authorization: Bearer " + repeated
	bareKey := &config{name: "bare httputil.ReverseProxy", target: target(bare, "/items/42", keyHeader)}
	bareJWT := &config{name: "bare httputil.ReverseProxy", target: target(bare, "/items/42", keyHeader, bearer)}
	freshTarget := loadgen.Target{Addr: gatewayAddr}
	for _, tok := range pool {
		freshTarget.Requests = append(freshTarget.Requests,
			loadgen.Request("GET", gatewayAddr, "/secure/items/42", keyHeader, "Authorization: Bearer "+tok))
	}
	// Half the load time, so that the pool lasts: each token is sent once.
	fresh := &config{name: "portico gateway", target: freshTarget, duration: o.duration / 2}
	comparisons := []*comparison{
		{
			title: "gateway, subscription key", goal: 0.9,
			base:    bareKey,
			subject: &config{name: "portico gateway", target: target(gatewayAddr, "/bench/items/42", keyHeader)},
		},
		{
			title: "gateway, key + ip_filter + validate_jwt (RS256), the same token repeated", goal: 0.9,
			base:    bareJWT,
			subject: &config{name: "portico gateway", target: target(gatewayAddr, "/secure/items/42", keyHeader, bearer)},
		},
		{
			title: "gateway, key + ip_filter + validate_jwt (RS256), a fresh token on every request", goal: 0.5,
			base:    bareJWT,
			subject: fresh,
		},
		{
			title: fmt.Sprintf("portal GET /apis with %d APIs (%d bytes), anonymous", o.apis, len(page)), goal: 1.0 / 3,
			base:    &config{name: "the same bytes as a static file", target: target(static, "/apis.html")},
			subject: &config{name: "portico portal", target: target(portalAddr, "/apis")},
		},
	}
	var all []*config
	for _, c := range comparisons {
		for _, cfg := range []*config{c.base, c.subject} {
			if !slices.Contains(all, cfg) {
				all = append(all, cfg)
			}
		}
	}
	for round := 0; round < o.rounds; round++ {
		for i := range all {
			c := all[(i+round)%len(all)]
			d := o.duration
			if c.duration > 0 {
				d = c.duration
			}
			r, err := loadgen.Run(ctx, c.target, o.conns, d)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			c.results = append(c.results, r)
		}
	}
	rssLoaded := rss(p.Process.Pid)

	for _, c := range comparisons {
		c.print(os.Stdout)
	}
	var sent int64
	for _, r := range fresh.results {
		sent += r.Requests
	}
	if sent > int64(len(pool)) {
		fmt.Printf("NOTE: the fresh-token configuration sent %d requests with %d tokens, so %.0f%% of them repeated a token; raise -tokens\n\n",
			sent, len(pool), 100*float64(sent-int64(len(pool)))/float64(sent))
	}
	fmt.Printf("portico start-up to ready (empty store, migrations): median %s of %d\n", median(startups).Round(time.Millisecond), len(startups))
	fmt.Printf("portico apply of %d APIs: %s\n", o.apis+1, applyTime.Round(time.Millisecond))
	fmt.Printf("portico resident memory: idle %s, after the load %s\n", mib(rssIdle), mib(rssLoaded))
	return nil
}

func target(addr, path string, headers ...string) loadgen.Target {
	return loadgen.Target{Addr: addr, Requests: [][]byte{loadgen.Request("GET", addr, path, headers...)}}
}

type config struct {
	name     string
	target   loadgen.Target
	duration time.Duration // 0: the run's
	results  []loadgen.Result
}

// comparison is a subject measured against its baseline in the same rounds.
// The base of several comparisons is one configuration, measured once per
// round; each comparison pairs it with its subject round by round.
type comparison struct {
	title         string
	goal          float64 // minimum throughput ratio subject/base
	base, subject *config
}

func (c *comparison) print(w io.Writer) {
	fmt.Fprintf(w, "%s\n", c.title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\trequests/s\tp50\tp99\terrors\t")
	var ratios []float64
	for i := range c.base.results {
		ratios = append(ratios, c.subject.results[i].RPS()/c.base.results[i].RPS())
	}
	for _, cfg := range []*config{c.base, c.subject} {
		var rps []float64
		var p50, p99 []time.Duration
		var errs int64
		for _, r := range cfg.results {
			rps = append(rps, r.RPS())
			p50 = append(p50, r.P50)
			p99 = append(p99, r.P99)
			errs += r.Errors
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%d\t\n", cfg.name, median(rps), median(p50).Round(time.Microsecond), median(p99).Round(time.Microsecond), errs)
	}
	tw.Flush()
	verdict := "meets"
	if median(ratios) < c.goal {
		verdict = "MISSES"
	}
	for _, r := range append(c.base.results, c.subject.results...) {
		if r.Errors > 0 {
			verdict = "MISSES (errors: responses other than 2xx)"
		}
	}
	fmt.Fprintf(w, "  throughput ratio, median of %d paired rounds: %.2f (rounds: %s); goal >= %.2f: %s\n\n",
		len(ratios), median(ratios), formatRatios(ratios), c.goal, verdict)
}

func formatRatios(rs []float64) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = strconv.FormatFloat(r, 'f', 2, 64)
	}
	return strings.Join(s, " ")
}

func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func benchConfig(n int, backend, publicKeyPEM string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "portal:\n  title: Bench\napis:\n")
	fmt.Fprintf(&b, "  - name: bench\n    display_name: Bench\n    path: bench\n    backend: {url: %q}\n", backend)
	fmt.Fprintf(&b, "  - name: secure\n    display_name: Secure\n    path: secure\n    backend: {url: %q}\n", backend)
	fmt.Fprintf(&b, "    policies:\n      ip_filter: {action: allow, addresses: [127.0.0.0/8]}\n")
	fmt.Fprintf(&b, "      validate_jwt:\n        require_scheme: Bearer\n        signing_keys: [%q]\n", publicKeyPEM)
	fmt.Fprintf(&b, "        issuers: [%q]\n        audiences: [%q]\n", benchIssuer, benchAudience)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - name: api-%04d\n    display_name: Generated API %04d\n    description: API number %d of the catalogue benchmark, with a sentence of text.\n    path: api-%04d\n    backend: {url: %q}\n", i, i, i, i, backend)
	}
	fmt.Fprintf(&b, "products:\n  - name: bench\n    display_name: Bench\n    state: published\n    apis: [bench, secure]\n")
	fmt.Fprintf(&b, "users:\n  - email: bench@example.com\n    name: Bench\n")
	fmt.Fprintf(&b, "subscriptions:\n  - name: bench\n    owner: bench@example.com\n    scope: product:bench\n    state: active\n    primary_key: %s\n", benchKey)
	return []byte(b.String())
}

func porticoEnv(db string) []string {
	return []string{"PORTICO_SECRET=" + secret, "PORTICO_DB=" + db}
}

func measureStartup(ctx context.Context, procs *processes, portico, db string) (time.Duration, error) {
	portalAddr, gatewayAddr := freeAddr(), freeAddr()
	begin := time.Now()
	p, err := procs.start(ctx, "portico-startup", portico, porticoEnv(db), "serve", "--portal-addr", portalAddr, "--gateway-addr", gatewayAddr)
	if err != nil {
		return 0, err
	}
	defer procs.stop(p)
	for _, u := range []string{"http://" + portalAddr + "/readyz", "http://" + gatewayAddr + "/readyz"} {
		if err := waitOK(ctx, u); err != nil {
			return 0, err
		}
	}
	return time.Since(begin), nil
}

// processes starts role processes and stops them all at the end.
type processes struct {
	dir   string
	procs []*exec.Cmd
}

func (ps *processes) start(ctx context.Context, name, bin string, env []string, args ...string) (*exec.Cmd, error) {
	log, err := os.Create(filepath.Join(ps.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = ps.dir
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ps.procs = append(ps.procs, cmd)
	return cmd, nil
}

func (ps *processes) stop(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func (ps *processes) stopAll() {
	for _, p := range ps.procs {
		if p.ProcessState == nil {
			ps.stop(p)
		}
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitOK(ctx context.Context, u string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready after 30s", u)
}

func fetch(ctx context.Context, u string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return io.ReadAll(res.Body)
}

// rss reads a process's resident set size from /proc, in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return -1
}

func mib(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
