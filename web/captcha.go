package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
)

// captchaAudioPolicy is the Content-Security-Policy of a CAPTCHA
// recording: a browser opening the .wav link plays it in a media document
// of its own, which the pages' policy (no media-src) would refuse.
const captchaAudioPolicy = "default-src 'none'; media-src 'self'; frame-ancestors 'none'"

// errCaptchaNotFound answers CAPTCHA paths that name no picture or sound.
var errCaptchaNotFound = portal.Errorf(portal.ENOTFOUND, "This CAPTCHA does not exist or has expired. Reload the page for a new one.")

func captchaImageURL(id string) string { return "/captcha/" + id + ".png" }
func captchaAudioURL(id string) string { return "/captcha/" + id + ".wav" }

// newCaptcha starts a challenge for the caller's session and returns the
// form's view of it; again is the page to load for a new challenge.
func (s *Server) newCaptcha(w http.ResponseWriter, r *http.Request, again string) (components.Captcha, error) {
	id, err := s.auth.NewCaptcha(w, r)
	if err != nil {
		return components.Captcha{}, err
	}
	return components.Captcha{ID: id, ImageURL: captchaImageURL(id), AudioURL: captchaAudioURL(id), NewURL: again}, nil
}

// handleCaptcha serves GET /captcha/{id}.png (the picture) and
// /captcha/{id}.wav (the digits read aloud), only to the session that
// started the challenge, and rate limited per address (429 with
// Retry-After).
func (s *Server) handleCaptcha(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errCaptchaNotFound)
		return
	}
	id, ext, ok := strings.Cut(r.PathValue("file"), ".")
	var (
		body        []byte
		err         error
		contentType string
	)
	switch {
	case ok && ext == "png":
		body, err = s.auth.CaptchaImage(r, id)
		contentType = "image/png"
	case ok && ext == "wav":
		body, err = s.auth.CaptchaAudio(r, id)
		contentType = "audio/wav"
	default:
		err = errCaptchaNotFound
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	if contentType == "audio/wav" {
		h.Set("Content-Security-Policy", captchaAudioPolicy)
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
