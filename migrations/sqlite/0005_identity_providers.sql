-- Identity providers (OpenID Connect: Entra ID, External ID, any provider)
-- and the identities that link an account at one of them to a user.

-- The client secret is sealed (encrypted and authenticated) like backend
-- credentials; allowed tenants and scopes are JSON arrays of strings.
CREATE TABLE identity_providers (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	name            TEXT NOT NULL UNIQUE,
	type            TEXT NOT NULL CHECK (type IN ('entra', 'external-id', 'oidc')),
	display_name    TEXT NOT NULL DEFAULT '',
	client_id       TEXT NOT NULL,
	client_secret   BLOB,
	tenant          TEXT NOT NULL DEFAULT '',
	allowed_tenants TEXT NOT NULL DEFAULT '[]',
	authority       TEXT NOT NULL DEFAULT '',
	issuer          TEXT NOT NULL DEFAULT '',
	scopes          TEXT NOT NULL DEFAULT '[]',
	signup          INTEGER NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL
);

-- Keyed by (issuer, subject): an identity belongs to at most one user.
-- Sign-ins write last_used and email, so, like sessions, identities are
-- not configuration and their writes do not bump the store version.
CREATE TABLE identities (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	provider   TEXT NOT NULL,
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	email      TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	last_used  TEXT NOT NULL,
	UNIQUE (issuer, subject)
);
CREATE INDEX identities_user ON identities (user_id);
