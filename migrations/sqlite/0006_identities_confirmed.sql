-- An identity is unconfirmed (confirmed = 0) when a provider sign-up linked
-- it to an address the provider did not vouch for: it never signs in until
-- the sign-up's confirmation link proves the address, and every other way
-- the account becomes active removes it. Until now a pending account's
-- identities were unconfirmed by that rule alone, so the pending accounts'
-- identities of an existing file start unconfirmed; every other identity
-- was linked by a sign-in the portal trusted, and stays confirmed.
ALTER TABLE identities ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;
UPDATE identities SET confirmed = 0 WHERE user_id IN (SELECT id FROM users WHERE state = 'pending');
