package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/views"
)

// The signed-in user's linked identities on their profile: each provider
// account they sign in with, unlinking one (POST
// /profile/identities/unlink/{id}) and linking another (POST
// /profile/identities/link/{idp}, signin_oidc.go).

// ProfileIdentityStore reads and unlinks a user's identities.
// portal.Store implements it.
type ProfileIdentityStore interface {
	FindUserIdentities(ctx context.Context, userID int64) ([]*portal.Identity, error)
	DeleteIdentity(ctx context.Context, userID, id int64) error
}

// signInWays is what a user can sign in with: their identities, the
// configured providers by name, and whether their password signs in.
type signInWays struct {
	identities   []*portal.Identity
	providers    map[string]*portal.IdentityProvider
	providerList []*portal.IdentityProvider
	password     bool
}

func (s *Server) signInWays(ctx context.Context, u *portal.User, settings *portal.Settings) (*signInWays, error) {
	ids, err := s.store.FindUserIdentities(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("find identities of user %d: %w", u.ID, err)
	}
	ways := &signInWays{
		identities: ids,
		providers:  map[string]*portal.IdentityProvider{},
		password:   u.PasswordHash != "" && settings.BasicAuth.SignIn,
	}
	if s.oidc != nil {
		ps, err := s.store.FindIdentityProviders(ctx)
		if err != nil {
			return nil, fmt.Errorf("find identity providers: %w", err)
		}
		ways.providerList = ps
		for _, p := range ps {
			ways.providers[p.Name] = p
		}
	}
	return ways, nil
}

// without returns the ways left once the provider named name is
// deleted.
func (w *signInWays) without(name string) *signInWays {
	left := *w
	left.providers = map[string]*portal.IdentityProvider{}
	left.providerList = nil
	for _, p := range w.providerList {
		if p.Name != name {
			left.providers[p.Name] = p
			left.providerList = append(left.providerList, p)
		}
	}
	return &left
}

// canUnlink reports whether the user keeps a way to sign in without id:
// a password that signs in, or another confirmed identity whose provider
// is still configured. An unconfirmed identity is no way in (it does not
// sign in), so it can always go and never counts as another way.
func (w *signInWays) canUnlink(id int64) bool {
	if w.password {
		return true
	}
	for _, i := range w.identities {
		if i.ID == id && i.Unconfirmed {
			return true
		}
	}
	for _, i := range w.identities {
		if i.ID != id && !i.Unconfirmed && w.providers[i.Provider] != nil {
			return true
		}
	}
	return false
}

// profileIdentities fills the profile's identities section.
func (s *Server) profileIdentities(ctx context.Context, u *portal.User, settings *portal.Settings, v *views.ProfileView) error {
	ways, err := s.signInWays(ctx, u, settings)
	if err != nil {
		return err
	}
	for _, i := range ways.identities {
		row := views.ProfileIdentity{
			ID:       strconv.FormatInt(i.ID, 10),
			Provider: i.Provider,
			Email:    i.Email,
			Linked:   formatTime(i.CreatedAt),
			LastUsed: formatTime(i.LastUsed),
			// Linked by a provider sign-up whose address was never
			// confirmed (the account was unblocked or made active
			// another way): it does not sign in, and its owner may not
			// be this account's.
			Unconfirmed: i.Unconfirmed,
		}
		if p := ways.providers[i.Provider]; p != nil {
			row.Provider = p.Label()
		} else {
			row.Provider += " (no longer offered)"
		}
		if ways.canUnlink(i.ID) {
			row.UnlinkURL = "/profile/identities/unlink/" + row.ID
		} else {
			row.KeepNote = "This is the only way you can sign in: set a password or link another identity before unlinking it."
		}
		v.Identities = append(v.Identities, row)
	}
	for _, p := range ways.providerList {
		v.LinkProviders = append(v.LinkProviders, views.IdentityProviderButton{
			Name:  p.Name,
			Label: "Link " + p.Label(),
			URL:   "/profile/identities/link/" + url.PathEscape(p.Name),
		})
	}
	return nil
}

// handleUnlinkIdentity unlinks one of the signed-in user's identities,
// unless it is their last way to sign in. Another user's identity answers
// 404, as a missing one does.
func (s *Server) handleUnlinkIdentity(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := portal.UserFromContext(ctx)
	notFound := portal.Errorf(portal.ENOTFOUND, "There is no identity %q linked to your account.", r.PathValue("id"))
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.error(w, r, notFound)
		return
	}
	settings, err := s.store.FindSettings(ctx)
	if err != nil {
		s.error(w, r, err)
		return
	}
	ways, err := s.signInWays(ctx, u, settings)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var target *portal.Identity
	for _, i := range ways.identities {
		if i.ID == id {
			target = i
		}
	}
	if target == nil {
		s.error(w, r, notFound)
		return
	}
	name := target.Provider
	if p := ways.providers[target.Provider]; p != nil {
		name = p.Label()
	}
	if !ways.canUnlink(id) {
		err = portal.Errorf(portal.ECONFLICT, "Your %s identity is the only way you can sign in. Set a password or link another identity first.", name)
	} else {
		err = s.store.DeleteIdentity(ctx, u.ID, id)
	}
	if err != nil {
		if status, message, ok := s.formError(w, r, err); ok {
			s.renderProfile(w, r, status, message)
		}
		return
	}
	s.logger.InfoContext(ctx, "identity unlinked", "request_id", requestIDFrom(ctx), "user_id", u.ID, "identity_id", id, "provider", target.Provider)
	s.done(w, r, profileURL, "Your "+name+" identity is unlinked; it no longer signs you in.")
}
