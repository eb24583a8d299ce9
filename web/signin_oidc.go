package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/mail"
	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/views"
)

// errNoIdentityProviders answers the identity provider routes of a server
// without Config.OIDC.
var errNoIdentityProviders = portal.Errorf(portal.ENOTFOUND, "Signing in with an identity provider is not available on this portal.")

// handleSignInWithProvider starts a sign-in with the identity provider
// {idp}: the browser goes to the provider, which sends it back to
// /signin/{idp}/callback.
func (s *Server) handleSignInWithProvider(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.error(w, r, errNoIdentityProviders)
		return
	}
	q := r.URL.Query()
	to, err := s.oidc.Start(w, r, r.PathValue("idp"), auth.StartOptions{
		Next:      safeNext(q.Get("next")),
		LoginHint: q.Get("login_hint"),
	})
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// handleSignInCallback finishes a sign-in (or a link) with the identity
// provider {idp} and goes on to the page the visitor came from. A refusal
// shows the error page with a safe message; its reason is in the log.
func (s *Server) handleSignInCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.error(w, r, errNoIdentityProviders)
		return
	}
	res, err := s.oidc.Finish(w, r, r.PathValue("idp"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	if res.Invitation != "" {
		// Only the invitation page starts flows with an invitation
		// (invitations.go).
		s.acceptInvitationCallback(w, r, res)
		return
	}
	if res.Pending {
		s.confirmProviderSignUp(w, r, res)
		return
	}
	http.Redirect(w, r, safeNext(res.Next), http.StatusSeeOther)
}

// confirmProviderSignUp answers a sign-in with a pending account (the
// provider did not vouch for the address) as a password sign-up does: a
// confirmation link goes to the address, which proves it, and the
// identity signs in once it is used. created says this sign-in made the
// account; otherwise its holder came back for a new link (the first mail
// lost, or its link expired), and the account stays whatever happens to
// the mail: it may hold an invitation or a link still on its way.
func (s *Server) confirmProviderSignUp(w http.ResponseWriter, r *http.Request, res *auth.Result) {
	ctx := r.Context()
	u, created := res.User, res.Created
	if err := s.sendProviderConfirmation(ctx, u, res.Provider); err != nil {
		// The provider has said who they are, so saying the mail failed
		// tells nothing new.
		s.logger.ErrorContext(ctx, "send confirmation mail", "request_id", requestIDFrom(ctx), "error", err)
		if created {
			// Without the mail the new account could never be confirmed:
			// remove it (and its identity), so that signing in again
			// retries; the removal must not depend on the visitor
			// waiting for it.
			if derr := s.store.DeleteUser(context.WithoutCancel(ctx), u.ID); derr != nil {
				s.logger.ErrorContext(ctx, "remove unconfirmable account", "request_id", requestIDFrom(ctx), "error", derr)
			}
		}
		s.error(w, r, errConfirmationNotSent)
		return
	}
	s.renderMessage(w, r, views.MessageView{
		Heading: "Confirm your email address",
		Paragraphs: []string{
			"The identity provider did not confirm that " + u.Email + " is yours, so we have sent a message to it. Open the link in it to finish signing up; it works once, for 24 hours.",
			"Nothing arrived after a few minutes? Look in your spam folder. An hour after this message, signing in again sends a new one.",
		},
		TestID: "check-email",
	})
}

// sendProviderConfirmation mails u the link that confirms their address
// and the identity they signed in with at the provider named idp. The
// mail names the provider, so that the owner of an address someone else
// claimed there knows not to open it.
func (s *Server) sendProviderConfirmation(ctx context.Context, u *portal.User, idp string) error {
	label := idp
	if p, err := s.store.FindIdentityProviderByName(ctx, idp); err == nil {
		label = p.Label()
	}
	token, err := s.auth.IssueToken(ctx, portal.TokenConfirmSignup, u.ID, auth.ConfirmSignupTTL)
	if err != nil {
		return err
	}
	err = s.sendMail(ctx, mail.ConfirmProviderSignup, u.Email, "/confirm/signup?token="+token,
		mail.Data{Name: u.Name, ValidFor: "24 hours", Provider: label})
	if err != nil {
		// A link never sent must not count as sent (one an hour), or the
		// visitor told to try again in a few minutes would be refused.
		if rerr := s.auth.RevokeToken(context.WithoutCancel(ctx), portal.TokenConfirmSignup, token); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// errConfirmationNotSent answers a provider sign-up whose confirmation
// mail could not be sent.
var errConfirmationNotSent = portal.Errorf(portal.EUNAVAILABLE, "We could not send the message that confirms your email address. Please try again in a few minutes.")

// handleLinkIdentity starts a flow that links an identity at the provider
// {idp} to the signed-in user; they come back to their profile.
func (s *Server) handleLinkIdentity(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.error(w, r, errNoIdentityProviders)
		return
	}
	u := portal.UserFromContext(r.Context())
	if !s.readForm(w, r, maxSignInForm) {
		return
	}
	next := "/profile"
	if n := r.PostForm.Get("next"); n != "" {
		next = safeNext(n)
	}
	to, err := s.oidc.Start(w, r, r.PathValue("idp"), auth.StartOptions{Next: next, LinkUserID: u.ID})
	if err != nil {
		s.error(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// identityProviderButtons lists the sign-in buttons, each returning to
// next. A store failure leaves the page without them rather than without
// the password form; it is logged.
func (s *Server) identityProviderButtons(ctx context.Context, next string) []views.IdentityProviderButton {
	if s.oidc == nil {
		return nil
	}
	ps, err := s.store.FindIdentityProviders(ctx)
	if err != nil {
		s.logger.ErrorContext(ctx, "list identity providers", "request_id", requestIDFrom(ctx), "error", err)
		return nil
	}
	out := make([]views.IdentityProviderButton, 0, len(ps))
	for _, p := range ps {
		u := "/signin/" + url.PathEscape(p.Name)
		if next != "" && next != "/" {
			u += "?next=" + url.QueryEscape(next)
		}
		out = append(out, views.IdentityProviderButton{Name: p.Name, Label: p.Label(), URL: u})
	}
	return out
}
