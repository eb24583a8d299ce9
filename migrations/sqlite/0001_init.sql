-- The first schema of the embedded SQLite store.
--
-- Times are UTC text in a fixed-width RFC 3339 form with nine fractional
-- digits ("2006-01-02T15:04:05.000000000Z"), so that text order is time
-- order. Durations are integer nanoseconds. Booleans are 0 or 1.
-- AUTOINCREMENT keeps the ids of deleted objects from being reused, so that
-- a stale link or cache entry never reaches a newer object.

-- One row; bumped in the same transaction as every change to users, APIs,
-- products, subscriptions or settings, so that processes sharing the file
-- can tell when to reload their caches.
CREATE TABLE store_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version INTEGER NOT NULL
);
INSERT INTO store_version (id, version) VALUES (1, 0);

-- One row once saved; a JSON document so that new settings need no
-- migration (missing members read as their defaults).
CREATE TABLE settings (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	document TEXT NOT NULL
);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	-- stored normalized (lower-case); NOCASE guards the unique index anyway
	email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'developer')),
	state         TEXT NOT NULL CHECK (state IN ('active', 'blocked', 'pending')),
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
);

CREATE TABLE apis (
	id                    INTEGER PRIMARY KEY AUTOINCREMENT,
	name                  TEXT NOT NULL UNIQUE,
	display_name          TEXT NOT NULL DEFAULT '',
	description           TEXT NOT NULL DEFAULT '',
	version               TEXT NOT NULL DEFAULT '',
	path                  TEXT NOT NULL UNIQUE,
	backend_url           TEXT NOT NULL,
	backend_timeout_ns    INTEGER NOT NULL,
	subscription_required INTEGER NOT NULL,
	key_header            TEXT NOT NULL,
	key_query             TEXT NOT NULL,
	spec_location         TEXT NOT NULL DEFAULT '',
	spec_format           TEXT NOT NULL DEFAULT '',
	spec_digest           TEXT NOT NULL DEFAULT '',
	created_at            TEXT NOT NULL,
	updated_at            TEXT NOT NULL
);

-- The OpenAPI document apart from the API row, so that listing APIs never
-- reads it.
CREATE TABLE api_specs (
	api_id   INTEGER PRIMARY KEY REFERENCES apis (id) ON DELETE CASCADE,
	document BLOB NOT NULL
);

-- Tags in first-seen order; the (tag, api_id) index serves the catalogue's
-- tag filter.
CREATE TABLE api_tags (
	api_id   INTEGER NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	tag      TEXT NOT NULL,
	PRIMARY KEY (api_id, position)
);
CREATE INDEX api_tags_tag ON api_tags (tag, api_id);

-- One row per operation, in the spec's order. What the gateway routes on has
-- columns; the rest of portal.Operation (summary, parameters, bodies,
-- responses) is a JSON document only the portal's pages read.
CREATE TABLE operations (
	api_id   INTEGER NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	op_id    TEXT NOT NULL,
	method   TEXT NOT NULL,
	path     TEXT NOT NULL,
	detail   TEXT NOT NULL,
	PRIMARY KEY (api_id, position),
	UNIQUE (api_id, op_id)
);

CREATE TABLE products (
	id                    INTEGER PRIMARY KEY AUTOINCREMENT,
	name                  TEXT NOT NULL UNIQUE,
	display_name          TEXT NOT NULL DEFAULT '',
	description           TEXT NOT NULL DEFAULT '',
	terms                 TEXT NOT NULL DEFAULT '',
	state                 TEXT NOT NULL CHECK (state IN ('published', 'not_published')),
	subscription_required INTEGER NOT NULL,
	approval_required     INTEGER NOT NULL,
	subscriptions_limit   INTEGER NOT NULL CHECK (subscriptions_limit >= 0),
	rate_limit_calls      INTEGER,
	rate_limit_period_ns  INTEGER,
	created_at            TEXT NOT NULL,
	updated_at            TEXT NOT NULL,
	CHECK ((rate_limit_calls IS NULL) = (rate_limit_period_ns IS NULL))
);

CREATE TABLE product_apis (
	product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
	api_id     INTEGER NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
	PRIMARY KEY (product_id, api_id)
);
CREATE INDEX product_apis_api ON product_apis (api_id);

-- A subscription points at its owner and its scope by id, so that renaming
-- a product or an API keeps its subscriptions, and deleting either deletes
-- them.
CREATE TABLE subscriptions (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	name          TEXT NOT NULL UNIQUE,
	display_name  TEXT NOT NULL DEFAULT '',
	owner_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
	scope_kind    TEXT NOT NULL CHECK (scope_kind IN ('product', 'api', 'all')),
	product_id    INTEGER REFERENCES products (id) ON DELETE CASCADE,
	api_id        INTEGER REFERENCES apis (id) ON DELETE CASCADE,
	state         TEXT NOT NULL CHECK (state IN ('submitted', 'active', 'suspended', 'rejected', 'cancelled', 'expired')),
	state_comment TEXT NOT NULL DEFAULT '',
	expires_at    TEXT,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	CHECK ((scope_kind = 'product') = (product_id IS NOT NULL)),
	CHECK ((scope_kind = 'api') = (api_id IS NOT NULL))
);
CREATE INDEX subscriptions_owner ON subscriptions (owner_id);
CREATE INDEX subscriptions_product ON subscriptions (product_id);
CREATE INDEX subscriptions_api ON subscriptions (api_id);
CREATE INDEX subscriptions_created ON subscriptions (created_at);

-- Keys are never stored in plain text: hash is the keyed hash used for
-- lookup, sealed the encrypted key shown again to its owner. Primary and
-- secondary keys share this table so that one unique index keeps every key
-- of every subscription distinct.
CREATE TABLE subscription_keys (
	subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	kind            TEXT NOT NULL CHECK (kind IN ('primary', 'secondary')),
	hash            BLOB NOT NULL UNIQUE,
	sealed          BLOB NOT NULL,
	PRIMARY KEY (subscription_id, kind)
);

-- The id is already a hash of the cookie's token (see portal.Session).
CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
	data       BLOB NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
