package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

var errNoReset = portal.Errorf(portal.ENOTFOUND, "This portal does not use passwords, so there is none to reset.")

// resetSettings returns the settings when password sign-in is on, and
// answers 404 otherwise.
func (s *Server) resetSettings(w http.ResponseWriter, r *http.Request) (*portal.Settings, bool) {
	if s.auth == nil {
		s.error(w, r, errNoReset)
		return nil, false
	}
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return nil, false
	}
	if !settings.BasicAuth.SignIn {
		s.error(w, r, errNoReset)
		return nil, false
	}
	return settings, true
}

// handleResetPasswordPage asks for the address of the account.
func (s *Server) handleResetPasswordPage(w http.ResponseWriter, r *http.Request) {
	settings, ok := s.resetSettings(w, r)
	if !ok {
		return
	}
	s.renderResetRequest(w, r, settings, http.StatusOK, "", "")
}

// handleResetPassword mails a reset link to the account with the address
// given, if there is one that may sign in (active, or pending: the link
// proves the address, so using it also confirms the account). The answer
// is the same page, after the same work, whether or not a mail is sent:
// the link is issued and mailed in the background, and a failure to send
// is logged, not shown, since showing it would tell that the account
// exists.
func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) {
	settings, ok := s.resetSettings(w, r)
	if !ok {
		return
	}
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	ctx := r.Context()
	email := strings.TrimSpace(r.PostForm.Get("email"))
	fail := func(err error) {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderResetRequest(w, r, settings, status, email, message)
		}
	}
	if err := s.auth.LimitAddress(r, auth.ActionReset); err != nil {
		fail(err)
		return
	}
	if err := s.auth.VerifyCaptcha(r, r.PostForm.Get("captcha_id"), r.PostForm.Get("captcha")); err != nil {
		fail(err)
		return
	}
	normalized := portal.NormalizeEmail(email)
	if err := portal.ValidateEmail(normalized); err != nil {
		fail(err)
		return
	}
	if err := s.auth.LimitAccount(auth.ActionReset, normalized); err != nil {
		fail(err)
		return
	}
	u, err := s.store.FindUserByEmail(ctx, normalized)
	switch {
	case portal.ErrorCode(err) == portal.ENOTFOUND:
		u = nil
	case err != nil:
		s.error(w, r, err)
		return
	}
	if u != nil && (u.State == portal.UserActive || u.State == portal.UserPending) {
		// After the answer: mailing takes as long as the mail server
		// does, and an unknown address gets no mail.
		s.inBackground(ctx, "send reset mail", func(ctx context.Context) error {
			token, err := s.auth.IssueToken(ctx, portal.TokenResetPassword, u.ID, auth.ResetPasswordTTL)
			if err != nil {
				return err
			}
			return s.sendMail(ctx, mail.ResetPassword, u.Email, "/confirm/password?token="+token, mail.Data{Name: u.Name, ValidFor: "1 hour"})
		})
	}
	s.renderMessage(w, r, views.MessageView{
		Heading: "Check your email",
		Paragraphs: []string{
			"If an account uses the address you gave, we have sent it a link to choose a new password. The link works once, for 1 hour.",
			"Nothing arrived after a few minutes? Look in your spam folder, and check that you typed the address of your account.",
		},
		TestID: "check-email",
	})
}

func (s *Server) renderResetRequest(w http.ResponseWriter, r *http.Request, settings *portal.Settings, status int, email, message string) {
	c, err := s.newCaptcha(w, r, resetPasswordURL)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.render(w, r, status, views.ResetRequestPage(views.ResetRequestView{
		Shell:   s.shell(r, settings, "Reset your password", ""),
		Email:   email,
		Captcha: c,
		Error:   message,
	}))
}

// handleChoosePasswordPage is where the emailed reset link leads: the
// form for the new password. The link is checked, not used up, so that a
// mistyped password can be corrected.
func (s *Server) handleChoosePasswordPage(w http.ResponseWriter, r *http.Request) {
	settings, ok := s.resetSettings(w, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("token")
	if _, err := s.auth.PeekToken(r.Context(), portal.TokenResetPassword, token); err != nil {
		s.error(w, r, err)
		return
	}
	s.renderChoosePassword(w, r, settings, http.StatusOK, token, "")
}

// handleChoosePassword sets the new password, uses the link up (and every
// other reset link of the account), ends every session of the account, all
// in one store transaction, and signs the caller in on a new one.
func (s *Server) handleChoosePassword(w http.ResponseWriter, r *http.Request) {
	settings, ok := s.resetSettings(w, r)
	if !ok {
		return
	}
	if !s.readForm(w, r, maxAccountForm) {
		return
	}
	ctx := r.Context()
	token := r.PostForm.Get("token")
	t, err := s.auth.PeekToken(ctx, portal.TokenResetPassword, token)
	if err != nil {
		s.error(w, r, err)
		return
	}
	u, err := s.store.FindUserByID(ctx, t.UserID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if u.State == portal.UserBlocked {
		s.error(w, r, portal.Errorf(portal.EFORBIDDEN, "This account is blocked. Contact the portal's administrators."))
		return
	}
	password, err := newPassword(r.PostForm, settings, u.Email)
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderChoosePassword(w, r, settings, status, token, message)
		}
		return
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// One store transaction sets the password, uses the link up (with
	// every other reset link) and ends every session: a failure leaves the
	// link working and the old password and sessions as they were, and a
	// new password never lives beside sessions it should have ended.
	if u, err = s.auth.ResetPassword(ctx, s.store, token, hash); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.auth.StartSession(ctx, w, r, u); err != nil {
		s.error(w, r, err)
		return
	}
	s.logger.InfoContext(ctx, "password reset", "user_id", u.ID)
	r = r.WithContext(portal.NewContextWithUser(ctx, u))
	s.renderMessage(w, r, views.MessageView{
		Heading:    "Your password is changed",
		Paragraphs: []string{"You are signed in with your new password. Every other browser or device that was signed in to your account has been signed out."},
		TestID:     "password-reset-done",
		Links:      []components.Link{{Label: "Browse APIs", URL: catalogueURL("", "", 1)}, {Label: "Change your password", URL: changePasswordURL}},
	})
}

func (s *Server) renderChoosePassword(w http.ResponseWriter, r *http.Request, settings *portal.Settings, status int, token, message string) {
	s.render(w, r, status, views.ChoosePasswordPage(views.ChoosePasswordView{
		Shell:             s.shell(r, settings, "Choose a new password", ""),
		Token:             token,
		MinPasswordLength: minPasswordLength(settings),
		Error:             message,
	}))
}
