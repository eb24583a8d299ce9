// Package web is the portal's HTTP server: one route table, one middleware
// chain, one error mapper, and the handlers of the public catalogue (home,
// APIs, operations, products), of password sign-in and sign-out, of the
// administration pages (/admin/...) and of the static files.
//
// Pages are templ components from web/views, built from view models that
// the handlers fill from the store; web/components holds the data-free
// pieces they share. Every page is rendered into a buffer first, so a
// failed render answers with the error page and never with half a page.
//
// Where things go:
//   - server.go: Config, New, the route table (routes) and the middleware
//     chain (Handler). New routes are added in routes, grouped as marked.
//   - middleware.go: request id, security headers, access log and metrics,
//     panic recovery, cross-origin protection; Config.Auth's Authenticate
//     then puts the signed-in user into the context.
//   - errors.go: the only place that turns portal error codes into status
//     codes and renders the error page.
//   - layout.go: the shell around every page (title, navigation, account
//     area) and the portal's own URLs.
//   - one file per resource for the handlers: home.go, apis.go,
//     products.go, static.go, signin.go (with signin_oidc.go for sign-in
//     and linking with identity providers, over auth.OIDC); the
//     administration in admin.go
//     (AdminStore, dashboard, users, shared helpers) and admin_apis.go,
//     admin_products.go, admin_subscriptions.go, admin_outbox.go,
//     admin_settings.go (the portal settings, read by every request),
//     admin_identity_providers.go (the identity providers, per type, with
//     a test that fetches the discovery document through auth); a
//     developer's profile and own subscriptions in subscriptions.go, and
//     their linked identities (list, unlink, link another) in
//     profile_identities.go;
//     password accounts in signup.go (AccountStore, sign-up and its
//     confirmation), reset.go (password reset), account.go (change the
//     password, close the account), invitations.go (invite, revoke and
//     list at /admin/invitations; accept at /confirm/invitation with a
//     password or an identity provider, whose callback ends in
//     acceptInvitationCallback), admin_users.go (block, unblock, role,
//     delete; each ends the user's sessions at once, and the last active
//     administrator is kept) and captcha.go (the CAPTCHA's picture
//     and sound, and the field every CAPTCHA form shows); an API's policy editor in
//     admin_policies.go (handlers) and admin_policy_form.go (the one
//     translation between the policy form and portal.Policies/BackendAuth,
//     where secrets are kept apart and never rendered). Every admin form POSTs and
//     redirects with 303 on success, leaving a one-time notice in the
//     session; a refused value re-renders the form with the message
//     (formError) and writes nothing.
//
// web imports portal, auth, openapi, policyxml, observe, static, web/views and
// web/components. It must not import gateway, a concrete store
// (portal/sqlite, portal/postgres) or cmd; it declares the store methods it
// needs in Store and AdminStore.
package web
