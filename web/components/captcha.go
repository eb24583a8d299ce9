package components

// Captcha is a CAPTCHA challenge shown on a form.
type Captcha struct {
	ID       string // sent back as captcha_id
	ImageURL string
	AudioURL string
	NewURL   string // the page again, with a new challenge
}
