package portal

import (
	"context"
	"time"
)

// Captcha is a CAPTCHA challenge: digits a visitor must read from a picture
// (or hear) before sign-up, a password reset or a sign-in after repeated
// failures. It is kept in the store so that any portal instance can check
// the answer, and it belongs to the browser session that fetched it.
type Captcha struct {
	ID        string // random and URL-safe; names the picture's URL
	SessionID string // the Session.ID of the browser that fetched it
	Digits    string // the answer: ASCII digits
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CaptchaService stores CAPTCHA challenges. They are a log rather than
// configuration: writes do not change the store's Version.
type CaptchaService interface {
	// CreateCaptcha stores c. Returns EINVALID when a field is missing, or
	// ECONFLICT when the id is taken.
	CreateCaptcha(ctx context.Context, c *Captcha) error
	// FindCaptcha returns the challenge with id while it is live at now
	// (to draw it). Returns ENOTFOUND if there is none, or it expired or
	// was used.
	FindCaptcha(ctx context.Context, id string, now time.Time) (*Captcha, error)
	// TakeCaptcha removes the challenge with id and returns it, so that
	// an answer is checked at most once whatever its outcome. Returns
	// ENOTFOUND if there is none, or it expired (and is removed) or was
	// already taken.
	TakeCaptcha(ctx context.Context, id string, now time.Time) (*Captcha, error)
	// DeleteExpiredCaptchas removes the challenges that expired before
	// now and returns how many.
	DeleteExpiredCaptchas(ctx context.Context, now time.Time) (int, error)
}
