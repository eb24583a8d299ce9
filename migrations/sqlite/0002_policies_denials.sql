-- Gateway policies and backend authentication of an API. Both are JSON;
-- backend_auth holds secrets and is sealed with the store's keys (AES-GCM),
-- policies may hold a symmetric signing key and is sealed too.
ALTER TABLE apis ADD COLUMN policies BLOB;
ALTER TABLE apis ADD COLUMN backend_auth BLOB;

-- Why the gateway refused a request, by request id, so that a
-- subscription's owner can see it. A log, not configuration: writes do not
-- bump the store version.
CREATE TABLE denials (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	request_id      TEXT NOT NULL,
	at              TEXT NOT NULL,
	api             TEXT NOT NULL DEFAULT '',
	subscription_id INTEGER,
	status          INTEGER NOT NULL,
	reason          TEXT NOT NULL,
	detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX denials_request_id ON denials (request_id);
CREATE INDEX denials_subscription ON denials (subscription_id, id);
CREATE INDEX denials_at ON denials (at);
