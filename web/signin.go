package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/views"
)

// maxSignInForm bounds the body of POST /signin: an email, a password of
// at most auth.MaxPasswordBytes and a return path.
const maxSignInForm = 16 << 10

// errNoSignIn answers the sign-in routes of a server without Config.Auth.
var errNoSignIn = portal.Errorf(portal.ENOTFOUND, "Signing in is not available on this portal.")

// errCaptchaNeeded answers a sign-in that needs a CAPTCHA and sent no
// answer: the form it came from may have shown none.
var errCaptchaNeeded = portal.Errorf(portal.EINVALID, "Type the digits in the picture to continue.")

// handleSignInPage shows the sign-in form. A visitor who is already
// signed in goes on to where they were headed.
func (s *Server) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoSignIn)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	if portal.UserFromContext(r.Context()) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderSignIn(w, r, http.StatusOK, "", next, "")
}

// handleSignIn checks the email and password, starts a session and
// redirects to the page the visitor came from. A failure re-renders the
// form with the email typed and one message.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoSignIn)
		return
	}
	if !s.readForm(w, r, maxSignInForm) {
		return
	}
	email, next := r.PostForm.Get("email"), safeNext(r.PostForm.Get("next"))
	fail := func(err error) {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderSignIn(w, r, status, email, next, message)
		}
	}
	ctx, password := r.Context(), r.PostForm.Get("password")
	// After repeated failures for the email or the address a CAPTCHA must
	// be solved as well (account.go). The GET form could not know the
	// email, so a POST may be the first to learn that one is needed: an
	// attempt without an answer gets the form with a picture and says so,
	// rather than "did not match" for a picture never shown. With the
	// email's limit spent, such an attempt keeps its 429 (and the form its
	// picture): only a solved CAPTCHA gets past that limit, and only up
	// to the email's higher CAPTCHA ceiling, past which nothing does.
	captcha, limit := s.auth.SignInChallenge(r, email)
	var err error
	switch {
	case captcha && strings.TrimSpace(r.PostForm.Get("captcha")) == "" && limit == nil:
		err = errCaptchaNeeded
	case captcha && strings.TrimSpace(r.PostForm.Get("captcha")) == "":
		err = limit
	case captcha:
		_, err = s.auth.SignInWithCaptcha(ctx, w, r, email, password, r.PostForm.Get("captcha_id"), r.PostForm.Get("captcha"))
	default:
		_, err = s.auth.SignIn(ctx, w, r, email, password)
	}
	if err != nil {
		fail(err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleSignOut ends the session and goes home.
func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoSignIn)
		return
	}
	if err := s.auth.SignOut(w, r); err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, email, next, message string) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := views.SignInView{
		Shell:          s.shell(r, settings, "Sign in", ""),
		Email:          strings.TrimSpace(email),
		Next:           next,
		Error:          message,
		PasswordSignIn: settings.BasicAuth.SignIn,
	}
	if settings.BasicAuth.SignUp {
		v.SignUpURL = "/signup"
	}
	page := views.SignInPageView{SignInView: v, Providers: s.identityProviderButtons(r.Context(), next)}
	if settings.BasicAuth.SignIn {
		page.ResetURL = resetPasswordURL
		// No CAPTCHA while the address's limit or the email's CAPTCHA
		// ceiling refuses outright: it could not help. Past the email's
		// limit it can (account.go).
		if captcha, _ := s.auth.SignInChallenge(r, email); captcha {
			again := "/signin"
			if next != "/" {
				again += "?next=" + url.QueryEscape(next)
			}
			c, err := s.newCaptcha(w, r, again)
			if err != nil {
				s.error(w, r, err)
				return
			}
			page.Captcha = &c
		}
	}
	s.render(w, r, status, views.SignInPage(page))
}

// safeNext returns next when it is a path on this site, and "/" for
// anything that could lead elsewhere: absolute URLs, scheme-relative
// "//host", "/\host" (which browsers read as "//host"), and control
// characters that browsers strip before parsing.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}
