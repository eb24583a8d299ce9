// Package configfile is Portico's declarative config file (CONTRACT.md
// section 3): it parses and validates a YAML file (Load), compares it with
// a store (File.Plan), writes the difference in one transaction (Apply),
// and writes a store back out as a file (Export). `portico apply` and
// `portico export` and the --config setting are thin wrappers around it.
//
// The file describes the portal settings, identity providers, APIs (with
// their gateway policies and backend authentication), products, users and
// subscriptions; objects are matched by name (users by email) and upserted.
// A key left out takes its default, as for a new object, with two
// exceptions: secrets left out keep the stored values (a user's password,
// a subscription's primary_key and secondary_key, an identity provider's
// client_secret, and an API's backend.auth basic password,
// oauth_client_credentials client_secret and certificate key, when the
// stored backend auth is of the same kind), and
// an API's display_name and description left out come from its OpenAPI
// document.
//
// An API's policies are given as YAML (policies: validate_jwt, ip_filter,
// client_certificate, rate_limit) or as APIM policy XML (policies_xml,
// converted by package policyxml; beside it, policies may only hold
// client_certificate.ca_files or ca_certificates). Files named in the
// config (ca_files, backend.auth.certificate cert_file and key_file) are
// read relative to it when it is loaded, and stored as PEM text, so every
// gateway instance has them. Exports write the stored form: YAML
// policies, ca_certificates and cert_pem inline, no secrets; a symmetric
// validate_jwt signing key is written as "(stored symmetric key N)", a
// placeholder that applies as the API's N-th stored symmetric key. Defaults: an API is served at its name
// with the key header Ocp-Apim-Subscription-Key, the query parameter
// subscription-key, a 30s backend timeout and subscription_required true;
// a product is not_published, requires subscriptions and no approval; a
// user is an active developer; a subscription is active; an identity
// provider lets a first sign-in create an account (signup true). The portal
// section, when present, sets every setting, absent ones to the defaults of
// a new store, except basic_auth.signup, which follows basic_auth.signin
// when left out (self sign-up needs password sign-in). A user whose role,
// state or password the file changes is signed out everywhere by the same
// transaction.
//
// A user with `invite: true` that is new to the store is created pending
// without a password, and its invitation (portal.NewInvitation, a token
// hash) is written by the same Store.Apply transaction; the tokens exist
// only in the Plan (Plan.Invitations), for the caller to print and mail
// after the commit, so a failed apply leaves no invitation and a failed
// mail leaves a working, printed link.
//
// Pruning deletes only within the sections present in the file, so a file
// with only apis never deletes users. Every problem is reported with its
// file, line and key, and nothing is written unless the whole file is
// valid. Secrets never appear in errors, diffs or exports.
//
// It imports portal, auth (password hashing), openapi, policyxml and the
// YAML library. It must not import web, gateway or a concrete store
// (portal/sqlite, portal/postgres); its tests use the SQLite store.
package configfile
