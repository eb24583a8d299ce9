-- Mail kept for the administrators' outbox page when no mail server is
-- configured. A log, not configuration: writes do not bump the version.
CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	recipients TEXT NOT NULL, -- JSON array of addresses
	subject    TEXT NOT NULL,
	text_body  TEXT NOT NULL,
	html_body  TEXT NOT NULL,
	created_at TEXT NOT NULL
);
