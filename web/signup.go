package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// AccountStore is what the pages of password accounts (sign-up,
// confirmation, reset, change, close) read and change. portal.Store
// implements it.
type AccountStore interface {
	FindUserByID(ctx context.Context, id int64) (*portal.User, error)
	FindUserByEmail(ctx context.Context, email string) (*portal.User, error)
	FindUsers(ctx context.Context, filter portal.UserFilter) ([]*portal.User, int, error)
	CreateUser(ctx context.Context, u *portal.User) error
	UpdateUser(ctx context.Context, id int64, upd portal.UserUpdate) (*portal.User, error)
	DeleteUser(ctx context.Context, id int64) error
	SetPassword(ctx context.Context, id int64, ch portal.PasswordChange) (*portal.User, error)
}

// The URLs of password accounts. The profile page links to the last two.
const (
	signUpURL         = "/signup"
	resetPasswordURL  = "/reset-password"
	changePasswordURL = "/profile/password"
	closeAccountURL   = "/profile/close"
)

// maxAccountForm bounds the body of the account forms: two passwords of
// at most auth.MaxPasswordBytes, an email, a name and a CAPTCHA answer.
const maxAccountForm = 16 << 10

var (
	errNoSignUp        = portal.Errorf(portal.ENOTFOUND, "Self-registration is turned off on this portal. Ask its administrators for an invitation.")
	errPasswordsDiffer = portal.Errorf(portal.EINVALID, "The two passwords are not the same. Type the new password twice.")
	errFormUnreadable  = portal.Errorf(portal.EINVALID, "The form could not be read; it may be too large.")
)

// newPassword returns the new password a form typed twice (fields
// password and password2), checked against the portal's rules for a new
// password of the account with email: the one check of sign-up, reset,
// invitation and change-password forms.
func newPassword(form url.Values, settings *portal.Settings, email string) (string, error) {
	password := form.Get("password")
	if password != form.Get("password2") {
		return "", errPasswordsDiffer
	}
	if err := auth.CheckNewPassword(password, settings.BasicAuth.MinPasswordLength, email); err != nil {
		return "", err
	}
	return password, nil
}

// signUpSettings returns the settings when self-registration and password
// sign-in are on, and answers 404 otherwise.
func (s *Server) signUpSettings(w http.ResponseWriter, r *http.Request) (*portal.Settings, bool) {
	if s.auth == nil {
		s.error(w, r, errNoSignUp)
		return nil, false
	}
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	// An account made here has only a password: without password sign-in
	// it could never be used.
	if !settings.BasicAuth.SignUp || !settings.BasicAuth.SignIn {
		s.error(w, r, errNoSignUp)
		return nil, false
	}
	return settings, true
}

// signUpForm is what the sign-up form keeps after a failed attempt.
type signUpForm struct {
	email, name string
	terms       bool
}

// handleSignUpPage shows the registration form with a new CAPTCHA.
func (s *Server) handleSignUpPage(w http.ResponseWriter, r *http.Request) {
	settings, ok := s.signUpSettings(w, r)
	if !ok {
		return
	}
	if portal.UserFromContext(r.Context()) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderSignUp(w, r, settings, http.StatusOK, signUpForm{}, "")
}

// handleSignUp creates an account. The checks run cheapest and least
// revealing first: the address's budget, the CAPTCHA, the form, then the
// email's budget. The answer does not tell whether the address already
// had an account: with email confirmation on, a new address and a known
// one both get the same "check your email" page, and the known one gets a
// mail saying that it already has an account (with a reset link) instead
// of a confirmation. With confirmation off a new account is signed in at
// once, which cannot look like the answer to a known address; that
// setting trades this privacy for convenience, as it does in APIM.
func (s *Server) handleSignUp(w http.ResponseWriter, r *http.Request) {
	settings, ok := s.signUpSettings(w, r)
	if !ok {
		return
	}
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	ctx := r.Context()
	form := r.PostForm
	f := signUpForm{email: strings.TrimSpace(form.Get("email")), name: strings.TrimSpace(form.Get("name")), terms: form.Get("terms") != ""}
	fail := func(err error) {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderSignUp(w, r, settings, status, f, message)
		}
	}
	if err := s.auth.LimitAddress(r, auth.ActionSignUp); err != nil {
		fail(err)
		return
	}
	if err := s.auth.VerifyCaptcha(r, form.Get("captcha_id"), form.Get("captcha")); err != nil {
		fail(err)
		return
	}
	state := portal.UserActive
	if settings.BasicAuth.EmailConfirmation {
		state = portal.UserPending
	}
	u := &portal.User{Email: f.email, Name: f.name, Role: portal.RoleDeveloper, State: state}
	if err := u.Validate(); err != nil {
		fail(err)
		return
	}
	if !portal.EmailDomainAllowed(u.Email, settings.BasicAuth.AllowedEmailDomains) {
		fail(portal.Errorf(portal.EINVALID, "Sign-up is open to addresses at %s only.", strings.Join(settings.BasicAuth.AllowedEmailDomains, ", ")))
		return
	}
	password, err := newPassword(form, settings, u.Email)
	if err != nil {
		fail(err)
		return
	}
	if settings.TermsOfUse != "" && !f.terms {
		fail(portal.Errorf(portal.EINVALID, "Accept the terms of use to sign up."))
		return
	}
	if err := s.auth.LimitAccount(auth.ActionSignUp, u.Email); err != nil {
		fail(err)
		return
	}
	// Hashed before the address is looked up, so that a known address
	// costs as much as a new one.
	hash, err := auth.HashPassword(password)
	if err != nil {
		fail(err)
		return
	}
	u.PasswordHash = hash
	switch err := s.store.CreateUser(ctx, u); portal.ErrorCode(err) {
	case "":
	case portal.ECONFLICT:
		// After the answer, as the confirmation below: both answers take
		// the same time and read the same.
		to := u.Email
		s.inBackground(ctx, "send account-exists mail", func(ctx context.Context) error {
			return s.sendMail(ctx, mail.AccountExists, to, resetPasswordURL, mail.Data{})
		})
		s.renderCheckEmail(w, r)
		return
	default:
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "signed up", "user_id", u.ID, "state", string(u.State))
	if u.State == portal.UserActive {
		if err := s.auth.StartSession(ctx, w, r, u); err != nil {
			s.error(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	// Without the mail the account could never be confirmed: it is
	// removed, so that signing up again works, when the mail fails or is
	// never sent. The answer is the check-your-email page all the same,
	// as for a known address: an error would tell that the address had
	// no account.
	s.inBackgroundOr(ctx, "send confirmation mail", func(ctx context.Context) error {
		err := s.sendConfirmation(ctx, u)
		if err != nil {
			if derr := s.removeUnconfirmable(ctx, u); derr != nil {
				err = errors.Join(err, fmt.Errorf("remove unconfirmable account: %w", derr))
			}
		}
		return err
	}, func(ctx context.Context) {
		if err := s.removeUnconfirmable(ctx, u); err != nil {
			s.logger.ErrorContext(ctx, "remove unconfirmable account", "request_id", requestIDFrom(ctx), "error", err)
		}
	})
	s.renderCheckEmail(w, r)
}

// removeUnconfirmable deletes the account u whose confirmation mail could
// not be sent, unless it changed meanwhile (a reset link used, an
// administrator's action): then it is someone's account now. It runs even
// when the mail's own time is up or the server is stopping.
func (s *Server) removeUnconfirmable(ctx context.Context, u *portal.User) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	cur, err := s.store.FindUserByID(ctx, u.ID)
	if portal.ErrorCode(err) == portal.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if cur.State != portal.UserPending || cur.PasswordHash != u.PasswordHash || cur.Role != u.Role {
		return nil
	}
	return s.store.DeleteUser(ctx, u.ID)
}

// sendConfirmation mails u the link that activates their account.
func (s *Server) sendConfirmation(ctx context.Context, u *portal.User) error {
	token, err := s.auth.IssueToken(ctx, portal.TokenConfirmSignup, u.ID, auth.ConfirmSignupTTL)
	if err != nil {
		return err
	}
	return s.sendMail(ctx, mail.ConfirmSignup, u.Email, "/confirm/signup?token="+token, mail.Data{Name: u.Name, ValidFor: "24 hours"})
}

// renderCheckEmail is the one answer to a sign-up that sent a mail,
// whether it confirms a new account or tells of an existing one.
func (s *Server) renderCheckEmail(w http.ResponseWriter, r *http.Request) {
	s.renderMessage(w, r, views.MessageView{
		Heading: "Check your email",
		Paragraphs: []string{
			"If the address you gave can sign up here, a message is on its way to it. Open the link in it to finish signing up; it works once, for 24 hours.",
			"Nothing arrived after a few minutes? Look in your spam folder, check the address you typed, and sign up again.",
		},
		TestID: "check-email",
	})
}

// renderMessage renders a MessagePage with status 200.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, v views.MessageView) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	v.Shell = s.shell(r, settings, v.Heading, "")
	s.render(w, r, http.StatusOK, views.MessagePage(v))
}

func (s *Server) renderSignUp(w http.ResponseWriter, r *http.Request, settings *portal.Settings, status int, f signUpForm, message string) {
	c, err := s.newCaptcha(w, r, signUpURL)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, status, views.SignUpPage(views.SignUpView{
		Shell:             s.shell(r, settings, "Sign up", ""),
		Email:             f.email,
		Name:              f.name,
		TermsOfUse:        settings.TermsOfUse,
		TermsAccepted:     f.terms,
		MinPasswordLength: minPasswordLength(settings),
		Captcha:           c,
		Error:             message,
		SignInURL:         "/signin",
	}))
}

func minPasswordLength(settings *portal.Settings) int {
	if n := settings.BasicAuth.MinPasswordLength; n > 0 {
		return n
	}
	return auth.MinPasswordLength
}

// handleConfirmSignupPage is where the emailed link leads: a page with a
// button, since mail scanners open links and must not use them up.
func (s *Server) handleConfirmSignupPage(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoSignUp)
		return
	}
	token := r.URL.Query().Get("token")
	if _, err := s.auth.PeekToken(r.Context(), portal.TokenConfirmSignup, token); err != nil {
		s.error(w, r, err)
		return
	}
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.ConfirmSignupPage(views.ConfirmSignupView{
		Shell: s.shell(r, settings, "Confirm your email address", ""),
		Token: token,
	}))
}

// handleConfirmSignup uses the link up, activates the account and signs
// its owner in. The link proves the address, so it also confirms the
// identity a provider sign-up linked (portal.Identity.Unconfirmed): one
// store transaction (Auth.ConfirmSignup), so that a blocked account keeps
// its link and an active account is never left without the identity
// that signs in to it. An account made active another way has lost that
// identity and the link with it.
func (s *Server) handleConfirmSignup(w http.ResponseWriter, r *http.Request) {
	if s.auth == nil {
		s.error(w, r, errNoSignUp)
		return
	}
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	ctx := r.Context()
	u, err := s.auth.ConfirmSignup(ctx, r.PostForm.Get("token"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.auth.StartSession(ctx, w, r, u); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "confirmed sign-up", "user_id", u.ID)
	r = r.WithContext(portal.NewContextWithUser(ctx, u))
	s.renderMessage(w, r, views.MessageView{
		Heading:    "Your address is confirmed",
		Paragraphs: []string{"Welcome, " + u.Name + ". Your account is active and you are signed in."},
		TestID:     "signup-confirmed",
		Links:      []components.Link{{Label: "Browse APIs", URL: catalogueURL("", "", 1)}, {Label: "See products", URL: "/products"}},
	})
}
