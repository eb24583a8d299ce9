package auth

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/porticoapi/portico/portal"
)

// Limit is a budget of failures per key: once Failures have been counted
// within Window of the first of them, the key is refused until the window
// ends.
type Limit struct {
	Failures int
	Window   time.Duration
}

// SignInLimits bound failed password sign-ins, per email address and per
// client address. Only failures count, and a successful sign-in clears the
// email's count but not the address's, so that an attacker cannot reset
// their address's budget by signing in to an account of their own.
type SignInLimits struct {
	PerEmail Limit
	PerIP    Limit
	// PerEmailWithCaptcha is the ceiling for attempts that solved a
	// CAPTCHA: those get past PerEmail (so that nobody can keep an account
	// locked by failing on purpose), but digit CAPTCHAs are cheap to read
	// by machine, so past this many failures for the email even a solved
	// CAPTCHA is refused, from any address, until its window ends or the
	// owner resets the password (which clears the count). Every failure
	// for the email counts, with or without a CAPTCHA. 0: 50 per hour.
	PerEmailWithCaptcha Limit
	// CaptchaAfter is how many failures for an email, and
	// CaptchaAfterPerIP how many from an address, make sign-in ask for a
	// CAPTCHA as well, before the limits above refuse outright; 0: 3 and
	// 10. An address may be a whole office behind one NAT, hence more.
	CaptchaAfter      int
	CaptchaAfterPerIP int
	// MaxKeys bounds the memory of each counter: past it, expired entries
	// are dropped and then, if need be, arbitrary ones.
	MaxKeys int
}

// DefaultSignInLimits: 10 failures per email and 30 per address in 15
// minutes, 50 per email in an hour with CAPTCHAs solved, at most 100,000
// keys each (a few MiB).
func DefaultSignInLimits() SignInLimits {
	return SignInLimits{
		PerEmail:            Limit{Failures: 10, Window: 15 * time.Minute},
		PerIP:               Limit{Failures: 30, Window: 15 * time.Minute},
		PerEmailWithCaptcha: Limit{Failures: 50, Window: time.Hour},
		CaptchaAfter:        3,
		CaptchaAfterPerIP:   10,
		MaxKeys:             100_000,
	}
}

// LimitError refuses an attempt made after too many failures. Edges that
// know it answer 429 Too Many Requests with a Retry-After header; it
// unwraps to a *portal.Error (EFORBIDDEN) carrying the message for the
// user, so that any other edge still refuses it.
type LimitError struct {
	RetryAfter time.Duration // at least one second
	err        *portal.Error
}

func newLimitError(retryAfter time.Duration) *LimitError {
	retryAfter = max(retryAfter.Round(time.Second), time.Second)
	return &LimitError{RetryAfter: retryAfter, err: portal.Errorf(portal.EFORBIDDEN,
		"Too many failed sign-in attempts. Try again in %s.", waitText(retryAfter))}
}

func (e *LimitError) Error() string { return e.err.Error() }

// Unwrap returns the user-facing portal error.
func (e *LimitError) Unwrap() error { return e.err }

func waitText(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// SignInLimiter counts failed sign-ins per email and per client address in
// memory. Each portal process counts on its own, which is enough to make
// guessing slow; it is safe for concurrent use.
type SignInLimiter struct {
	email          *FailureCounter
	emailCaptcha   *FailureCounter // the ceiling past which a CAPTCHA does not help
	ip             *FailureCounter
	captchaAfter   int
	captchaAfterIP int
}

// NewSignInLimiter returns a limiter with limits l; zero fields take the
// defaults.
func NewSignInLimiter(l SignInLimits) *SignInLimiter {
	d := DefaultSignInLimits()
	if l.PerEmail.Failures <= 0 || l.PerEmail.Window <= 0 {
		l.PerEmail = d.PerEmail
	}
	if l.PerIP.Failures <= 0 || l.PerIP.Window <= 0 {
		l.PerIP = d.PerIP
	}
	if l.PerEmailWithCaptcha.Failures <= 0 || l.PerEmailWithCaptcha.Window <= 0 {
		l.PerEmailWithCaptcha = d.PerEmailWithCaptcha
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = d.MaxKeys
	}
	if l.CaptchaAfter <= 0 {
		l.CaptchaAfter = d.CaptchaAfter
	}
	if l.CaptchaAfterPerIP <= 0 {
		l.CaptchaAfterPerIP = d.CaptchaAfterPerIP
	}
	return &SignInLimiter{email: NewFailureCounter(l.PerEmail, l.MaxKeys), ip: NewFailureCounter(l.PerIP, l.MaxKeys),
		emailCaptcha: NewFailureCounter(l.PerEmailWithCaptcha, l.MaxKeys),
		captchaAfter: l.CaptchaAfter, captchaAfterIP: l.CaptchaAfterPerIP}
}

// CaptchaRequired reports whether the email (when not empty) or the
// address has failed often enough that the next attempt must also solve a
// CAPTCHA.
func (l *SignInLimiter) CaptchaRequired(email, ip string, now time.Time) bool {
	return (email != "" && l.email.Count(email, now) >= l.captchaAfter) || l.ip.Count(addressKey(ip), now) >= l.captchaAfterIP
}

// Check returns a *LimitError when the email or the address has used up
// its failures, nil otherwise. email should be normalized. The email's
// CAPTCHA ceiling counts here too: its window may outlast PerEmail's, and
// an attempt without a CAPTCHA must not get past what one with a CAPTCHA
// cannot.
func (l *SignInLimiter) Check(email, ip string, now time.Time) error {
	wait, blocked := l.email.Blocked(email, now)
	if w, b := l.emailCaptcha.Blocked(email, now); b {
		wait, blocked = max(wait, w), true
	}
	if w, b := l.ip.Blocked(addressKey(ip), now); b {
		wait, blocked = max(wait, w), true
	}
	if blocked {
		return newLimitError(wait)
	}
	return nil
}

// CheckAddress is Check for the address alone.
func (l *SignInLimiter) CheckAddress(ip string, now time.Time) error {
	if wait, blocked := l.ip.Blocked(addressKey(ip), now); blocked {
		return newLimitError(wait)
	}
	return nil
}

// CheckWithCaptcha is Check for an attempt that solved a CAPTCHA: the
// address's limit and the email's PerEmailWithCaptcha ceiling apply, not
// the email's PerEmail limit.
func (l *SignInLimiter) CheckWithCaptcha(email, ip string, now time.Time) error {
	wait, blocked := l.emailCaptcha.Blocked(email, now)
	if w, b := l.ip.Blocked(addressKey(ip), now); b {
		wait, blocked = max(wait, w), true
	}
	if blocked {
		return newLimitError(wait)
	}
	return nil
}

// Failed counts a failed attempt against both the email and the address.
func (l *SignInLimiter) Failed(email, ip string, now time.Time) {
	l.email.Fail(email, now)
	l.emailCaptcha.Fail(email, now)
	l.ip.Fail(addressKey(ip), now)
}

// Succeeded clears the email's failures, the CAPTCHA ceiling's included.
func (l *SignInLimiter) Succeeded(email string) {
	l.email.Reset(email)
	l.emailCaptcha.Reset(email)
}

// Prune drops the entries whose window has ended.
func (l *SignInLimiter) Prune(now time.Time) {
	l.email.Prune(now)
	l.emailCaptcha.Prune(now)
	l.ip.Prune(now)
}

// addressKey groups IPv6 clients by their /64, which one host usually
// controls whole; IPv4 addresses and anything unparsable count as given.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// FailureCounter counts failures per key in fixed windows that start at a
// key's first failure. It keeps at most maxKeys keys. It is safe for
// concurrent use.
type FailureCounter struct {
	limit   Limit
	maxKeys int

	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	count int
	start time.Time
}

// NewFailureCounter returns a counter for limit, keeping at most maxKeys
// keys (at least 1).
func NewFailureCounter(limit Limit, maxKeys int) *FailureCounter {
	return &FailureCounter{limit: limit, maxKeys: max(maxKeys, 1), entries: make(map[string]*failures)}
}

// Blocked reports whether key has used up its failures at now, and how
// long until its window ends.
func (c *FailureCounter) Blocked(key string, now time.Time) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.entries[key]
	if !ok || c.expired(f, now) || f.count < c.limit.Failures {
		return 0, false
	}
	return f.start.Add(c.limit.Window).Sub(now), true
}

// Count returns how many failures key has in its current window at now.
func (c *FailureCounter) Count(key string, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.entries[key]
	if !ok || c.expired(f, now) {
		return 0
	}
	return f.count
}

// Fail counts one failure of key at now.
func (c *FailureCounter) Fail(key string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.entries[key]
	if !ok {
		if len(c.entries) >= c.maxKeys {
			c.makeRoom(now)
		}
		f = &failures{}
		c.entries[key] = f
	}
	if f.count == 0 || c.expired(f, now) {
		f.count, f.start = 0, now
	}
	f.count++
}

// Reset forgets key's failures.
func (c *FailureCounter) Reset(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

// Prune drops the keys whose window has ended.
func (c *FailureCounter) Prune(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune(now)
}

// Len returns how many keys the counter holds.
func (c *FailureCounter) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func (c *FailureCounter) expired(f *failures, now time.Time) bool {
	return !now.Before(f.start.Add(c.limit.Window))
}

func (c *FailureCounter) prune(now time.Time) {
	for k, f := range c.entries {
		if c.expired(f, now) {
			delete(c.entries, k)
		}
	}
}

// makeRoom frees at least one slot: expired keys first, then, when every
// key is live (a flood of distinct keys), a tenth of them at random, so
// that memory stays bounded and one flood cannot pin the table.
func (c *FailureCounter) makeRoom(now time.Time) {
	c.prune(now)
	if len(c.entries) < c.maxKeys {
		return
	}
	drop := max(c.maxKeys/10, 1)
	for k := range c.entries { // map order is random
		delete(c.entries, k)
		if drop--; drop == 0 {
			return
		}
	}
}
