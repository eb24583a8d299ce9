// Package migrations holds Portico's database schema as forward-only,
// numbered SQL files, one folder per dialect, embedded in the binary.
//
// A file is named NNNN_description.sql; its number is its version. A
// migration is never edited once merged: a fix is a new file. The stores
// (portal/sqlite, portal/postgres) apply the files in order and record each
// version; this package only reads and checks the files.
//
// It imports only the standard library.
package migrations
