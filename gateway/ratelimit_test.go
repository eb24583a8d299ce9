package gateway_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/gateway"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/portal/sqlite"
)

// rateCatalog is the store of the rate limit tests:
//
//	product gold   {3 calls/min}: APIs a and b
//	product burst  {20 calls/min}: API burst
//	API b          {2 calls/min} of its own
//	API open       no key needed, {1 call/min} of its own
//
// and it returns the primary keys of the subscriptions gold1 and gold2
// (product:gold), apib (api:b), all (all) and burst (product:burst).
func rateCatalog(t *testing.T, backend string) (*sqlite.Store, map[string]string) {
	t.Helper()
	ctx := context.Background()
	s := authStore(t)
	perMinute := func(n int) *portal.RateLimit { return &portal.RateLimit{Calls: n, Period: time.Minute} }
	for _, a := range []*portal.API{
		{Name: "a", Path: "a", SubscriptionRequired: true},
		{Name: "b", Path: "b", SubscriptionRequired: true, Policies: portal.Policies{RateLimit: perMinute(2)}},
		{Name: "burst", Path: "burst", SubscriptionRequired: true},
		{Name: "open", Path: "open", Policies: portal.Policies{RateLimit: perMinute(1)}},
	} {
		a.Backend.URL = backend
		if err := s.CreateAPI(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*portal.Product{
		{Name: "gold", APIs: []string{"a", "b"}, RateLimit: perMinute(3)},
		{Name: "burst", APIs: []string{"burst"}, RateLimit: perMinute(20)},
	} {
		p.State, p.SubscriptionRequired = portal.ProductPublished, true
		if err := s.CreateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	keys := map[string]string{}
	for name, scope := range map[string]string{
		"gold1": "product:gold", "gold2": "product:gold", "apib": "api:b", "all": "all", "burst": "product:burst",
	} {
		sc, err := portal.ParseScope(scope)
		if err != nil {
			t.Fatal(err)
		}
		sub := &portal.Subscription{Name: name, Scope: sc, State: portal.SubscriptionActive}
		if err := s.CreateSubscription(ctx, sub); err != nil {
			t.Fatal(err)
		}
		keys[name] = sub.PrimaryKey
	}
	return s, keys
}

func rateLimited(secs string) string {
	return errorBody(429, "Rate limit is exceeded. Try again in "+secs+" seconds.")
}

func TestRateLimit(t *testing.T) {
	rec := newRecorder(t)
	s, keys := rateCatalog(t, rec.URL)

	// step is one call and what it must get: 200, or 429 with Retry-After.
	type step struct {
		path, sub  string // sub "": no key
		wantStatus int
		wantRetry  string
	}
	ok := func(path, sub string) step { return step{path, sub, 200, ""} }
	limited := func(path, sub, retry string) step { return step{path, sub, 429, retry} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"product limit", []step{
			ok("/a/x", "gold1"), ok("/a/x", "gold1"), ok("/a/x", "gold1"),
			limited("/a/x", "gold1", "60"),
			ok("/a/x", "gold2"), // its own counter
		}},
		{"product counter spans the product's APIs", []step{
			ok("/a/x", "gold1"), ok("/a/x", "gold1"), ok("/b/x", "gold1"),
			limited("/b/x", "gold1", "60"), limited("/a/x", "gold1", "60"),
		}},
		{"API limit refuses and gives back the product's call", []step{
			ok("/b/x", "gold1"), ok("/b/x", "gold1"),
			limited("/b/x", "gold1", "60"),
			ok("/a/x", "gold1"), // the product's third call
			limited("/a/x", "gold1", "60"),
		}},
		{"API-scope subscription: the API's limit only", []step{
			ok("/b/x", "apib"), ok("/b/x", "apib"), limited("/b/x", "apib", "60"),
		}},
		{"all-scope subscription: no product limit", []step{
			ok("/a/x", "all"), ok("/a/x", "all"), ok("/a/x", "all"), ok("/a/x", "all"), ok("/a/x", "all"),
			ok("/b/x", "all"), ok("/b/x", "all"), limited("/b/x", "all", "60"),
		}},
		{"open API: no subscription, no limit", []step{
			ok("/open/x", ""), ok("/open/x", ""), ok("/open/x", ""), ok("/open/x", ""),
			ok("/open/x", "all"), limited("/open/x", "all", "60"), ok("/open/x", ""),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, s, nil) // a new gateway: new counters
			for i, st := range tc.steps {
				var hdr http.Header
				if st.sub != "" {
					hdr = key(keys[st.sub])
				}
				before, _, _ := rec.state()
				res := do(t, "GET", h.srv.URL+st.path, hdr, "")
				hits, _, _ := rec.state()
				if res.status != st.wantStatus {
					t.Fatalf("step %d (%s as %s): %d %q, want %d", i+1, st.path, st.sub, res.status, res.body, st.wantStatus)
				}
				if st.wantStatus == 200 {
					if hits != before+1 {
						t.Fatalf("step %d: the backend was not called", i+1)
					}
					continue
				}
				if hits != before {
					t.Fatalf("step %d: a limited call reached the backend", i+1)
				}
				if got := res.header.Get("Retry-After"); got != st.wantRetry {
					t.Fatalf("step %d: Retry-After %q, want %q", i+1, got, st.wantRetry)
				}
				if res.body != rateLimited(st.wantRetry) || res.header.Get("Content-Type") != "application/json" {
					t.Fatalf("step %d: body %q (%s)", i+1, res.body, res.header.Get("Content-Type"))
				}
			}
		})
	}
}

func TestRateLimitWindow(t *testing.T) {
	rec := newRecorder(t)
	s, keys := rateCatalog(t, rec.URL)
	clock := newAuthClock()
	var logs syncBuffer
	h := start(t, s, func(c *gateway.Config) {
		c.Now = clock.Now
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	call := func() response { return do(t, "GET", h.srv.URL+"/a/x", key(keys["gold1"]), "") }
	for range 3 {
		if res := call(); res.status != 200 {
			t.Fatalf("within the limit: %d %q", res.status, res.body)
		}
	}
	for _, tc := range []struct {
		advance time.Duration
		retry   string // "": passes
	}{
		{0, "60"},
		{15500 * time.Millisecond, "45"}, // 44.5s left, rounded up
		{44 * time.Second, "1"},          // 0.5s left
		{499 * time.Millisecond, "1"},    // 1ms left: never 0
		{time.Millisecond, ""},           // a new window
		{0, ""},
		{0, ""},
		{59 * time.Second, "1"},
	} {
		clock.advance(tc.advance)
		res := call()
		if tc.retry == "" {
			if res.status != 200 {
				t.Fatalf("%s: %d %q, want 200", tc.advance, res.status, res.body)
			}
			continue
		}
		if res.status != 429 || res.header.Get("Retry-After") != tc.retry || res.body != rateLimited(tc.retry) {
			t.Fatalf("%s: %d Retry-After %q %q, want 429 after %s", tc.advance, res.status, res.header.Get("Retry-After"), res.body, tc.retry)
		}
	}

	// A rebuild of the routes keeps the counters.
	touchCatalog(t, s, h, "unrelated")
	if res := call(); res.status != 429 {
		t.Fatalf("after a rebuild: %d", res.status)
	}

	if got := authDenials(t, h, "rate_limit_exceeded"); got != "6" {
		t.Fatalf("denials_total{reason=rate_limit_exceeded} = %s, want 6", got)
	}
	if out := logs.String(); !strings.Contains(out, `reason=rate_limit_exceeded detail="subscription `) ||
		!strings.Contains(out, ` is over 3 calls per 1m0s of product gold" status=429`) {
		t.Fatalf("the log lacks the denial's detail:\n%s", out)
	}
}

// TestRateLimitConcurrent sends three times the limit at once: exactly the
// limit passes.
func TestRateLimitConcurrent(t *testing.T) {
	rec := newRecorder(t)
	s, keys := rateCatalog(t, rec.URL)
	clock := newAuthClock() // still: every call in one window
	h := start(t, s, func(c *gateway.Config) { c.Now = clock.Now })

	const limit, calls = 20, 60
	statuses := make(chan int, calls)
	for range calls {
		go func() {
			req, _ := http.NewRequest("GET", h.srv.URL+"/burst/x", nil)
			req.Header.Set(keyHeader, keys["burst"])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	count := map[int]int{}
	for range calls {
		count[<-statuses]++
	}
	if count[200] != limit || count[429] != calls-limit {
		t.Fatalf("statuses %v, want %d × 200 and %d × 429", count, limit, calls-limit)
	}
	if hits, _, _ := rec.state(); hits != limit {
		t.Fatalf("backend hits %d, want %d", hits, limit)
	}
}
