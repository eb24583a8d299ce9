package auth_test

import (
	"testing"
	"time"

	"github.com/porticoapi/portico/auth"
)

// TestCaptchaRequired: the CAPTCHA is asked for after CaptchaAfter
// failures for an email or CaptchaAfterPerIP from an address, and no
// longer once their window has passed.
func TestCaptchaRequired(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := auth.NewSignInLimiter(auth.SignInLimits{CaptchaAfter: 2, CaptchaAfterPerIP: 3})
	l.Failed("a@example.com", "192.0.2.1", now)
	if l.CaptchaRequired("a@example.com", "192.0.2.9", now) {
		t.Fatal("asked after 1 failure")
	}
	l.Failed("a@example.com", "192.0.2.2", now)
	if !l.CaptchaRequired("a@example.com", "192.0.2.9", now) {
		t.Fatal("not asked after 2 failures for the email")
	}
	if l.CaptchaRequired("b@example.com", "192.0.2.9", now) {
		t.Fatal("another email from a clean address is asked")
	}
	for _, email := range []string{"b@example.com", "c@example.com", "d@example.com"} {
		l.Failed(email, "2001:db8::1", now)
	}
	if !l.CaptchaRequired("", "2001:db8::2", now) || !l.CaptchaRequired("e@example.com", "2001:db8::ffff", now) {
		t.Fatal("not asked after 3 failures from the address's /64")
	}
	l.Succeeded("a@example.com")
	if l.CaptchaRequired("a@example.com", "192.0.2.9", now) {
		t.Fatal("still asked after a success")
	}
	if l.CaptchaRequired("", "2001:db8::2", now.Add(auth.DefaultSignInLimits().PerIP.Window)) {
		t.Fatal("still asked after the window")
	}
}
