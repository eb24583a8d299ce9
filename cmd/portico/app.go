package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/porticoapi/portico/keyring"
	"github.com/porticoapi/portico/portal/sqlite"
)

// app is what every command that touches the store opens: the secret's
// keyring and the migrated store.
type app struct {
	settings *Settings
	logger   *slog.Logger
	keys     *keyring.Keyring
	store    *sqlite.Store
	// stdout is the command's standard output, for what a command prints
	// besides its log (the links of invitations made at start).
	stdout io.Writer
}

// open loads the secret, opens the store and applies pending migrations.
func (c *cli) open(ctx context.Context, s *Settings) (*app, error) {
	secret, err := keyring.LoadSecret(s.Secret, s.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("load secret: %w", err)
	}
	keys, err := keyring.New(secret)
	if err != nil {
		return nil, fmt.Errorf("load secret: %w", err)
	}
	store, err := sqlite.Open(ctx, sqlite.Config{Path: s.DB, Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", s.DB, err)
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("migrate store %s: %w", s.DB, err)
	}
	return &app{settings: s, logger: newLogger(s.LogFormat, c.stderr), keys: keys, store: store, stdout: c.stdout}, nil
}

func (a *app) close() {
	if err := a.store.Close(); err != nil {
		a.logger.Error("close store", "error", err)
	}
}
