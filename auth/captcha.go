package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dchest/captcha"
	"github.com/porticoapi/portico/portal"
)

// CAPTCHA challenges. The digits are drawn from crypto/rand by
// captcha.RandomDigits and kept in the store (portal.CaptchaService), and
// the picture and the sound are rendered from them with captcha.NewImage
// and captcha.NewAudio. dchest/captcha's own global store is therefore
// never used, and there is nothing to set from cmd: any instance sharing
// the store can draw and check any challenge.
const (
	CaptchaDigits = 6
	CaptchaTTL    = 10 * time.Minute
	CaptchaWidth  = 240
	CaptchaHeight = 80
	// captchaIDBytes: 128 random bits name a challenge.
	captchaIDBytes = 16
)

// errNoCaptcha answers the CAPTCHA calls of an Auth without
// Config.Captchas.
var errNoCaptcha = errors.New("auth: no CAPTCHA store configured")

// errCaptchaWrong is the one answer to a wrong, expired, used, unknown or
// foreign challenge: which one it was helps only someone probing.
var errCaptchaWrong = portal.Errorf(portal.EINVALID, "The digits did not match the picture, or the picture had expired. Type the digits of the new picture.")

// errCaptchaNotFound answers a picture or sound that does not exist for
// the caller.
var errCaptchaNotFound = portal.Errorf(portal.ENOTFOUND, "This CAPTCHA does not exist or has expired. Reload the page for a new one.")

// NewCaptcha starts a challenge bound to the caller's session, starting an
// anonymous session (and setting its cookie) when there is none, and
// returns its id. It counts against the caller's address's CAPTCHA budget:
// *LimitError when that is spent.
func (a *Auth) NewCaptcha(w http.ResponseWriter, r *http.Request) (string, error) {
	if a.captchas == nil {
		return "", errNoCaptcha
	}
	if err := a.LimitAddress(r, ActionCaptcha); err != nil {
		return "", err
	}
	sess, err := a.Session(r)
	if err != nil {
		return "", err
	}
	if sess.ID == "" {
		if err := a.store.Save(r, w, sess); err != nil {
			return "", err
		}
	}
	digits := captcha.RandomDigits(CaptchaDigits)
	for i := range digits {
		digits[i] += '0'
	}
	now := a.now()
	c := &portal.Captcha{ID: newCaptchaID(), SessionID: sess.ID, Digits: string(digits), CreatedAt: now, ExpiresAt: now.Add(CaptchaTTL)}
	if err := a.captchas.CreateCaptcha(r.Context(), c); err != nil {
		return "", fmt.Errorf("create captcha: %w", err)
	}
	return c.ID, nil
}

// CaptchaImage returns the PNG picture of challenge id. Only the session
// that started it may see it; anyone else gets ENOTFOUND, as for an
// unknown or expired one. It counts against the caller's CAPTCHA budget.
func (a *Auth) CaptchaImage(r *http.Request, id string) ([]byte, error) {
	id, digits, err := a.captchaDigits(r, id)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := captcha.NewImage(id, digits, CaptchaWidth, CaptchaHeight).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("draw captcha: %w", err)
	}
	return buf.Bytes(), nil
}

// CaptchaAudio returns the WAV recording of challenge id's digits, in
// English, for visitors who cannot see the picture. Errors as CaptchaImage.
func (a *Auth) CaptchaAudio(r *http.Request, id string) ([]byte, error) {
	id, digits, err := a.captchaDigits(r, id)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := captcha.NewAudio(id, digits, "en").WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("record captcha: %w", err)
	}
	return buf.Bytes(), nil
}

// captchaDigits finds the caller's live challenge id and returns its
// digits as numbers 0-9.
func (a *Auth) captchaDigits(r *http.Request, id string) (string, []byte, error) {
	if a.captchas == nil {
		return "", nil, errNoCaptcha
	}
	if err := a.LimitAddress(r, ActionCaptcha); err != nil {
		return "", nil, err
	}
	if !validCaptchaID(id) {
		return "", nil, errCaptchaNotFound
	}
	sess, err := a.Session(r)
	if err != nil {
		return "", nil, err
	}
	c, err := a.captchas.FindCaptcha(r.Context(), id, a.now())
	switch {
	case portal.ErrorCode(err) == portal.ENOTFOUND:
		return "", nil, errCaptchaNotFound
	case err != nil:
		return "", nil, fmt.Errorf("find captcha: %w", err)
	case sess.ID == "" || !equalStrings(c.SessionID, sess.ID):
		return "", nil, errCaptchaNotFound
	}
	digits := []byte(c.Digits)
	for i := range digits {
		digits[i] -= '0'
	}
	return c.ID, digits, nil
}

// VerifyCaptcha checks answer against challenge id, which it uses up
// whatever the outcome, so that each picture allows one guess. It passes
// only when the challenge is live, was started by the caller's session,
// and answer holds its digits (spaces ignored). Every failure is the same
// EINVALID.
func (a *Auth) VerifyCaptcha(r *http.Request, id, answer string) error {
	if a.captchas == nil {
		return errNoCaptcha
	}
	if !validCaptchaID(id) {
		return errCaptchaWrong
	}
	sess, err := a.Session(r)
	if err != nil {
		return err
	}
	c, err := a.captchas.TakeCaptcha(r.Context(), id, a.now())
	switch {
	case portal.ErrorCode(err) == portal.ENOTFOUND:
		return errCaptchaWrong
	case err != nil:
		return fmt.Errorf("take captcha: %w", err)
	}
	answer = strings.Join(strings.Fields(answer), "")
	sameSession := sess.ID != "" && equalStrings(c.SessionID, sess.ID)
	if !equalStrings(answer, c.Digits) || !sameSession {
		return errCaptchaWrong
	}
	return nil
}

func newCaptchaID() string {
	b := make([]byte, captchaIDBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validCaptchaID accepts only what newCaptchaID makes, so that arbitrary
// text never reaches the store or a file name.
func validCaptchaID(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(captchaIDBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}
