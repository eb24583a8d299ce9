// Package demo fills an empty store with the demo content of CONTRACT
// section 6: an administrator with a generated password, the Echo API on the
// built-in echo backend, and a published Starter product containing it.
//
// It runs only when asked (portico serve --demo) and only on an empty store.
// It imports portal and openapi, never a concrete store.
package demo
