package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadSecret returns the master secret: decoded from env (hex or base64)
// when env is non-empty, otherwise read from path, which is created with 32
// random bytes and mode 0600 when it does not exist.
func LoadSecret(env, path string) ([]byte, error) {
	if env = strings.TrimSpace(env); env != "" {
		b, err := decodeSecret(env)
		if err != nil {
			return nil, fmt.Errorf("PORTICO_SECRET: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createSecretFile(path)
	} else if err != nil {
		return nil, err
	}
	if len(b) < MinSecretLength {
		return nil, fmt.Errorf("secret file %s holds %d bytes, needs at least %d", path, len(b), MinSecretLength)
	}
	return b, nil
}

func decodeSecret(s string) ([]byte, error) {
	var b []byte
	var err error
	if len(s)%2 == 0 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == "" {
		b, err = hex.DecodeString(s)
	} else if b, err = base64.StdEncoding.DecodeString(s); err != nil {
		b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, errors.New("not hex or base64")
	}
	if len(b) < MinSecretLength {
		return nil, fmt.Errorf("decodes to %d bytes, needs at least %d", len(b), MinSecretLength)
	}
	return b, nil
}

func createSecretFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b := make([]byte, MinSecretLength)
	rand.Read(b)
	// O_EXCL: when two processes start at once, one creates the file and
	// the other reads what the first wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadSecret("", path)
	} else if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, err
	}
	return b, nil
}
