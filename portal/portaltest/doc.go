// Package portaltest helps test code that depends on package portal. Its
// RunStoreTests is the conformance suite every portal.Store (SQLite,
// PostgreSQL) must pass unchanged: the store packages' own tests run it on
// a real database.
//
// It is imported only by tests. It imports portal and the standard library,
// never a store package, so that the suite speaks only the interface.
package portaltest
