package web_test

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
)

// visitorFrom is a visitor whose requests come from a loopback address
// of its own (127.0.0.2, ...), so that the per-address limits count it
// apart from the fixture's other requests (127.0.0.1).
func (e *env) visitorFrom(ip string) *visitor {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &visitor{e: e, client: &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// TestSignInCaptchaGetsPastEmailLimit: failures from one address spend
// the email's limit, which refuses even the right password from anywhere
// (429, as before); but the form then shows a CAPTCHA, and the right
// password with the CAPTCHA solved signs the owner in from another
// address, so that nobody can keep an account locked by failing on
// purpose. A wrong password with a solved CAPTCHA still fails and counts;
// an address past its own limit gets no CAPTCHA.
func TestSignInCaptchaGetsPastEmailLimit(t *testing.T) {
	e := newEnvWith(t, envOptions{limits: auth.SignInLimits{
		PerEmail: auth.Limit{Failures: 3, Window: 15 * time.Minute},
		PerIP:    auth.Limit{Failures: 3, Window: 15 * time.Minute},
	}})
	attacker := e.visitorFrom("127.0.0.1")
	for range 3 {
		wantStatus(t, "wrong password from A", attacker.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {"guess"}}), http.StatusUnauthorized)
	}
	// The attacker's address is spent as well: no CAPTCHA can help it.
	r := attacker.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}})
	wantTooMany(t, r, 15*time.Minute)
	if strings.Contains(r.body, "captcha_id") {
		t.Fatalf("an address past its limit is offered a CAPTCHA")
	}

	owner := e.visitorFrom("127.0.0.2")
	r = owner.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}})
	wantTooMany(t, r, 15*time.Minute)
	id, digits := e.captchaOf(t, r.body)

	// A wrong password with the CAPTCHA solved is refused and counted.
	r = owner.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {"another guess"}, "captcha_id": {id}, "captcha": {digits}})
	wantStatus(t, "wrong password with the CAPTCHA from B", r, http.StatusUnauthorized)
	id, digits = e.captchaOf(t, r.body)

	r = owner.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}, "captcha_id": {id}, "captcha": {digits}})
	wantStatus(t, "right password with the CAPTCHA from B", r, http.StatusSeeOther)
	if got := e.whoIs(t, owner.cookie); got != "Dee Developer" {
		t.Fatalf("signed in as %q", got)
	}
}

// TestSignInCaptchaCeiling: a solved CAPTCHA gets past the email's limit
// only up to the email's CAPTCHA ceiling (PerEmailWithCaptcha), however
// many addresses the guesses come from: past it, even the right password
// with a solved CAPTCHA from an address that never failed is 429 with a
// Retry-After, and the form offers no CAPTCHA that could not help.
func TestSignInCaptchaCeiling(t *testing.T) {
	e := newEnvWith(t, envOptions{limits: auth.SignInLimits{
		PerEmail:            auth.Limit{Failures: 3, Window: 15 * time.Minute},
		PerIP:               auth.Limit{Failures: 3, Window: 15 * time.Minute},
		PerEmailWithCaptcha: auth.Limit{Failures: 6, Window: time.Hour},
	}})
	wrong := url.Values{"email": {developerEmail}, "password": {"guess"}}
	for range 3 {
		wantStatus(t, "wrong password", e.visitorFrom("127.0.0.1").post(t, "/signin", wrong), http.StatusUnauthorized)
	}
	// The owner's tab, from an address that never failed, is shown a
	// CAPTCHA while the ceiling is not reached yet.
	owner := e.visitorFrom("127.0.0.9")
	r := owner.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}})
	wantTooMany(t, r, 15*time.Minute)
	ownerID, ownerDigits := e.captchaOf(t, r.body)

	// Each further guess comes from a fresh address with the CAPTCHA
	// solved, as a botnet reading the digits would.
	for i := range 3 {
		guesser := e.visitorFrom("127.0.0." + strconv.Itoa(3+i))
		r := guesser.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {"guess"}})
		id, digits := e.captchaOf(t, r.body)
		r = guesser.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {"guess"}, "captcha_id": {id}, "captcha": {digits}})
		wantStatus(t, "wrong password with the CAPTCHA solved", r, http.StatusUnauthorized)
	}

	r = owner.post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}, "captcha_id": {ownerID}, "captcha": {ownerDigits}})
	wantTooMany(t, r, time.Hour)
	if strings.Contains(r.body, "captcha_id") {
		t.Fatalf("an email past its CAPTCHA ceiling is offered a CAPTCHA")
	}
	if got := e.whoIs(t, owner.cookie); got != "" {
		t.Fatalf("signed in as %q past the ceiling", got)
	}
	// Without a CAPTCHA, from yet another address, too: the ceiling's
	// window outlasts the email's limit.
	e.clock.Advance(20 * time.Minute)
	r = e.visitorFrom("127.0.0.20").post(t, "/signin", url.Values{"email": {developerEmail}, "password": {developerPassword}})
	wantTooMany(t, r, 40*time.Minute)
}
