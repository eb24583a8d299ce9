// Package keyring turns Portico's one master secret into purpose-bound keys:
// a keyed hash for looking up subscription keys and session tokens, an
// AES-256-GCM key for sealing stored secrets, and the cookie keys. It also
// loads the secret from PORTICO_SECRET or the secret file, creating the file
// with mode 0600 when it is missing.
//
// Standard library only; it imports nothing of Portico's but portal.
package keyring
