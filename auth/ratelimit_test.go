package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
)

func TestFailureCounter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := auth.NewFailureCounter(auth.Limit{Failures: 3, Window: 10 * time.Minute}, 100)
	for _, tc := range []struct {
		at      time.Duration // since t0
		fail    bool          // count a failure first
		blocked bool
		wait    time.Duration
	}{
		{0, true, false, 0},
		{time.Minute, true, false, 0},
		{2 * time.Minute, true, true, 8 * time.Minute}, // the window started at the first failure
		{9 * time.Minute, false, true, time.Minute},
		{10 * time.Minute, false, false, 0}, // the window is over
		{10 * time.Minute, true, false, 0},  // and a new one starts
	} {
		now := t0.Add(tc.at)
		if tc.fail {
			c.Fail("k", now)
		}
		wait, blocked := c.Blocked("k", now)
		if blocked != tc.blocked || wait != tc.wait {
			t.Fatalf("at +%s: blocked %v for %s, want %v for %s", tc.at, blocked, wait, tc.blocked, tc.wait)
		}
	}
	c.Reset("k")
	if _, blocked := c.Blocked("k", t0); blocked || c.Len() != 0 {
		t.Fatal("Reset kept the key")
	}
}

// TestSignInLimiterCaptchaCeiling: a solved CAPTCHA gets past the
// email's limit but not its CAPTCHA ceiling, from any address; plain
// attempts are held to the ceiling too once PerEmail's window is over;
// a success (a password reset signs in) clears the ceiling's count.
func TestSignInLimiterCaptchaCeiling(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l := auth.NewSignInLimiter(auth.SignInLimits{
		PerEmail:            auth.Limit{Failures: 2, Window: time.Minute},
		PerIP:               auth.Limit{Failures: 100, Window: time.Hour},
		PerEmailWithCaptcha: auth.Limit{Failures: 4, Window: time.Hour},
	})
	for i := range 3 {
		l.Failed("a@example.com", "198.51.100."+strconv.Itoa(i), now)
	}
	if err := l.CheckWithCaptcha("a@example.com", "203.0.113.1", now); err != nil {
		t.Fatalf("with a CAPTCHA after 3 failures: %v", err)
	}
	l.Failed("a@example.com", "198.51.100.9", now)
	var limited *auth.LimitError
	if err := l.CheckWithCaptcha("a@example.com", "203.0.113.1", now); !errors.As(err, &limited) || limited.RetryAfter != time.Hour {
		t.Fatalf("with a CAPTCHA after 4 failures = %v", err)
	}
	later := now.Add(2 * time.Minute) // PerEmail's window is over
	if err := l.Check("a@example.com", "203.0.113.1", later); !errors.As(err, &limited) || limited.RetryAfter != 58*time.Minute {
		t.Fatalf("without a CAPTCHA past the ceiling = %v", err)
	}
	l.Succeeded("a@example.com")
	if err := l.CheckWithCaptcha("a@example.com", "203.0.113.1", later); err != nil {
		t.Fatalf("after a success: %v", err)
	}
}

// TestFailureCounterBounded: a flood of distinct keys never grows the
// counter past its bound, and expired keys go first.
func TestFailureCounterBounded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := auth.NewFailureCounter(auth.Limit{Failures: 1, Window: time.Minute}, 50)
	for i := range 1000 {
		c.Fail("key"+strconv.Itoa(i), t0)
		if c.Len() > 50 {
			t.Fatalf("%d keys after %d failures, bound 50", c.Len(), i+1)
		}
	}
	c.Prune(t0.Add(2 * time.Minute))
	if c.Len() != 0 {
		t.Fatalf("Prune left %d keys", c.Len())
	}

	// Full of keys whose window is over: a new key pushes them all out,
	// and no live key is lost.
	for i := range 50 {
		c.Fail("old"+strconv.Itoa(i), t0)
	}
	later := t0.Add(2 * time.Minute)
	c.Fail("fresh", later)
	if c.Len() != 1 {
		t.Fatalf("%d keys, want only the fresh one", c.Len())
	}
	if _, blocked := c.Blocked("fresh", later); !blocked {
		t.Fatal("the fresh key's failure was lost")
	}
}

func TestSignInLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l := auth.NewSignInLimiter(auth.SignInLimits{
		PerEmail: auth.Limit{Failures: 2, Window: time.Minute},
		PerIP:    auth.Limit{Failures: 4, Window: time.Hour},
	})
	l.Failed("a@example.com", "2001:db8::1", now)
	l.Failed("a@example.com", "2001:db8::2", now)
	err := l.Check("a@example.com", "198.51.100.1", now)
	var limited *auth.LimitError
	if !errors.As(err, &limited) || limited.RetryAfter != time.Minute {
		t.Fatalf("Check after 2 failures = %v", err)
	}
	if portal.ErrorCode(err) != portal.EFORBIDDEN || portal.ErrorMessage(err) != "Too many failed sign-in attempts. Try again in 1 minute." {
		t.Fatalf("LimitError reads as %s %q", portal.ErrorCode(err), portal.ErrorMessage(err))
	}
	l.Succeeded("a@example.com")
	if err := l.Check("a@example.com", "198.51.100.1", now); err != nil {
		t.Fatalf("after a success: %v", err)
	}
	// One IPv6 /64 is one client: two more failures from it reach its 4.
	l.Failed("b@example.com", "2001:db8::3", now)
	l.Failed("c@example.com", "2001:db8::ffff", now)
	if err := l.Check("d@example.com", "2001:db8::42", now); !errors.As(err, &limited) || limited.RetryAfter != time.Hour {
		t.Fatalf("same /64 after 4 failures = %v", err)
	}
	if err := l.Check("d@example.com", "2001:db8:1::42", now); err != nil {
		t.Fatalf("another /64 = %v", err)
	}
	if err := l.Check("d@example.com", "::ffff:198.51.100.1", now); err != nil {
		t.Fatalf("an IPv4 client = %v", err)
	}
}

func TestClientIPBehind(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies trusted", nil, "10.0.0.1:5000", []string{"203.0.113.9"}, "10.0.0.1"},
		{"untrusted peer", trusted, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"one trusted proxy", trusted, "10.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed left entries ignored", trusted, "10.0.0.1:5000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"two trusted hops", trusted, "10.0.0.1:5000", []string{"203.0.113.9, 10.1.1.1"}, "203.0.113.9"},
		{"several headers", trusted, "[2001:db8::1]:443", []string{"203.0.113.9", "10.2.2.2"}, "203.0.113.9"},
		{"all trusted", trusted, "10.0.0.1:5000", []string{"10.3.3.3"}, "10.3.3.3"},
		{"garbage", trusted, "10.0.0.1:5000", []string{"not-an-ip"}, "10.0.0.1"},
		{"no header", trusted, "10.0.0.1:5000", nil, "10.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/signin", nil)
			r.RemoteAddr = tc.peer
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := auth.ClientIPBehind(tc.trusted)(r); got != tc.want {
				t.Fatalf("client = %q, want %q", got, tc.want)
			}
		})
	}
}
