// Package sqlite is Portico's embedded store: portal.Store on one SQLite
// file through modernc.org/sqlite (pure Go, no cgo), with hand-written SQL,
// one file per entity, and the schema from the migrations package.
//
// Several processes may share the file (a portal and gateways on one host):
// writes go through one connection per process in BEGIN IMMEDIATE
// transactions and wait for each other under busy_timeout, reads use a pool
// of WAL readers, and Version is read from the file so that every process
// sees every other's changes.
//
// In production only cmd imports this package; everything else depends on
// the interfaces of portal. It must not import net/http or any other
// Portico package but portal and migrations.
package sqlite
