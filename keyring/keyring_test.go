package keyring_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/porticoapi/portico/keyring"
)

func TestSealOpen(t *testing.T) {
	k1, err := keyring.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := keyring.New(bytes.Repeat([]byte{2}, 32))

	sealed := k1.Seal([]byte("0123456789abcdef0123456789abcdef"))
	got, err := k1.Open(sealed)
	if err != nil || string(got) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if bytes.Contains(sealed, []byte("0123456789abcdef")) {
		t.Fatal("sealed value contains the plaintext")
	}
	if _, err := k2.Open(sealed); err == nil {
		t.Fatal("Open under another secret succeeded")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := k1.Open(tampered); err == nil {
		t.Fatal("Open of a tampered value succeeded")
	}
	if _, err := k1.Open(sealed[:5]); err == nil {
		t.Fatal("Open of a truncated value succeeded")
	}
	if bytes.Equal(k1.Seal([]byte("x")), k1.Seal([]byte("x"))) {
		t.Fatal("two seals of the same plaintext are equal; the nonce is not random")
	}
}

func TestKeyHash(t *testing.T) {
	k1, _ := keyring.New(bytes.Repeat([]byte{1}, 32))
	k2, _ := keyring.New(bytes.Repeat([]byte{2}, 32))
	if !bytes.Equal(k1.KeyHash("abc"), k1.KeyHash("abc")) {
		t.Fatal("KeyHash is not deterministic")
	}
	if bytes.Equal(k1.KeyHash("abc"), k1.KeyHash("abd")) {
		t.Fatal("different keys hash alike")
	}
	if bytes.Equal(k1.KeyHash("abc"), k2.KeyHash("abc")) {
		t.Fatal("KeyHash does not depend on the secret")
	}
	h, b := k1.CookieKeys()
	if len(h) != 64 || len(b) != 32 || bytes.Equal(h[:32], b) {
		t.Fatalf("cookie keys: %d and %d bytes", len(h), len(b))
	}
}

func TestNewRefusesShortSecret(t *testing.T) {
	if _, err := keyring.New(make([]byte, 31)); err == nil {
		t.Fatal("New accepted a 31-byte secret")
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "secret.key")

	created, err := keyring.LoadSecret("", path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := keyring.LoadSecret("", path)
	if err != nil || !bytes.Equal(created, again) {
		t.Fatalf("second load = %x, %v; want %x", again, err, created)
	}

	want := bytes.Repeat([]byte{7}, 32)
	for _, env := range []string{hex.EncodeToString(want), "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="} {
		got, err := keyring.LoadSecret(env, path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("LoadSecret(%q) = %x, %v", env, got, err)
		}
	}
	for _, env := range []string{"abcd", "not a secret!", hex.EncodeToString(make([]byte, 16))} {
		if _, err := keyring.LoadSecret(env, path); err == nil {
			t.Fatalf("LoadSecret(%q) accepted a bad secret", env)
		}
	}

	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("tiny"), 0o600)
	if _, err := keyring.LoadSecret("", short); err == nil {
		t.Fatal("LoadSecret accepted a 4-byte file")
	}
}
