-- CAPTCHA challenges and the one-time links of account mail (sign-up
-- confirmation, password reset). Both are short-lived logs rather than
-- configuration: writes do not bump the store version.

-- A challenge belongs to the browser session that fetched it; ending that
-- session (sign-in rotates it) ends its challenges. digits is the answer:
-- it is drawn into the picture, so it cannot be hashed.
CREATE TABLE captchas (
	id         TEXT PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	digits     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX captchas_session ON captchas (session_id);
CREATE INDEX captchas_expires ON captchas (expires_at);

-- hash is the hex SHA-256 of the token in the emailed link; the token
-- itself is never stored. purpose: confirm_signup | reset_password.
CREATE TABLE account_tokens (
	hash       TEXT PRIMARY KEY,
	purpose    TEXT NOT NULL,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires ON account_tokens (expires_at);
