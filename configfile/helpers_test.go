package configfile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes content as portico.yaml in a new directory, beside a
// copy of testdata/specs, and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	copySpecs(t, filepath.Join(dir, "specs"))
	path := filepath.Join(dir, "portico.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func copySpecs(t *testing.T, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "specs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata", "specs", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// envOf returns a Getenv over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// testEnv holds the secrets the test files refer to.
var testEnv = map[string]string{
	"ADMIN_PASSWORD": "correct horse battery staple",
	"DEV_PASSWORD":   "another long password",
	"CI_PRIMARY":     "ci-primary-key-0123456789abcdef",
	"CI_SECONDARY":   "ci-secondary-key-0123456789abcdef",
	"TITLE_SUFFIX":   "APIs",
}

// load writes content and loads it with testEnv.
func load(t *testing.T, content string) (*File, error) {
	t.Helper()
	path := writeConfig(t, content)
	f, err := Load(context.Background(), path, Config{Getenv: envOf(testEnv)})
	if err != nil {
		return nil, relErr{err, filepath.Dir(path) + string(filepath.Separator)}
	}
	return f, nil
}

// relErr shows an error with the temporary directory cut out, so that
// tests compare "portico.yaml:7: ...".
type relErr struct {
	err error
	dir string
}

func (e relErr) Error() string { return strings.ReplaceAll(e.err.Error(), e.dir, "") }
func (e relErr) Unwrap() error { return e.err }
