// Package demo fills an empty store with the demo content of CONTRACT
// section 6: an administrator with a generated password, the Echo API on the
// built-in echo backend, and a published Starter product containing it.
// With a development identity provider (NewDevIdP, devidp served by
// portico itself under /dev-idp, with a few test users), it also adds the
// identity provider "dev" for it, so that OIDC sign-in works offline;
// Mount serves it and ConnectDevIdP registers the portal's client there.
//
// It runs only when asked (portico serve --demo) and only on an empty store.
// It imports portal, openapi and devidp, never a concrete store.
package demo
