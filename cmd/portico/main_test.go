package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// porticoBin is the real binary, built once for every test here: the tests
// drive Portico as a user does, through its command line.
var porticoBin string

// devidpBin is cmd/devidp, the development OpenID provider as a process,
// built beside porticoBin for the tests that sign in through it.
var devidpBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "portico-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	porticoBin = filepath.Join(dir, "portico")
	if out, err := exec.Command("go", "build", "-o", porticoBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	devidpBin = filepath.Join(dir, "devidp")
	if out, err := exec.Command("go", "build", "-o", devidpBin, "../devidp").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ../devidp: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// cleanEnv is the test process's environment without PORTICO_ settings,
// so that the machine's own settings never leak into a test.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTICO_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runPortico runs the binary to completion in dir.
func runPortico(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(porticoBin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("portico %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func TestVersion(t *testing.T) {
	r := runPortico(t, t.TempDir(), nil, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "portico ") || !strings.Contains(r.stdout, "go1.") {
		t.Fatalf("portico version = %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestUnknownCommand(t *testing.T) {
	r := runPortico(t, t.TempDir(), nil, "", "frobnicate")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Fatalf("portico frobnicate = %d %q", r.code, r.stderr)
	}
}

// TestBadSettingsRefused checks CONTRACT section 1: a bad value is refused
// at start with one line naming the setting, exit code 2, and nothing is
// created.
func TestBadSettingsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("not a certificate"), 0o600)
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"portal address", nil, []string{"--portal-addr", "nowhere"}, "--portal-addr (PORTICO_PORTAL_ADDR)"},
		{"gateway address from env", []string{"PORTICO_GATEWAY_ADDR=127.0.0.1:99999"}, nil, "--gateway-addr (PORTICO_GATEWAY_ADDR)"},
		{"public URL", nil, []string{"--public-url", "ftp://portal.example.com"}, "--public-url (PORTICO_PUBLIC_URL)"},
		{"gateway URL with query", nil, []string{"--gateway-url", "https://gw.example.com/?x=1"}, "--gateway-url (PORTICO_GATEWAY_URL)"},
		{"log format", []string{"PORTICO_LOG_FORMAT=xml"}, nil, "--log-format (PORTICO_LOG_FORMAT)"},
		{"demo not a boolean", []string{"PORTICO_DEMO=maybe"}, nil, "--demo (PORTICO_DEMO)"},
		{"missing config file", nil, []string{"--config", "nope.yaml"}, "--config (PORTICO_CONFIG)"},
		{"TLS cert without key", nil, []string{"--gateway-tls-cert", "cert.pem"}, "--gateway-tls-cert"},
		{"TLS cert unreadable", nil, []string{"--gateway-tls-cert", "cert.pem", "--gateway-tls-key", "cert.pem"}, "cannot load the key pair"},
		{"trusted proxies", []string{"PORTICO_TRUSTED_PROXIES=10.0.0.0/8,banana"}, nil, "--trusted-proxies (PORTICO_TRUSTED_PROXIES)"},
		{"SMTP URL", nil, []string{"--smtp-url", "http://mail.example.com"}, "--smtp-url (PORTICO_SMTP_URL)"},
		{"mail from", nil, []string{"--mail-from", "not an address"}, "--mail-from (PORTICO_MAIL_FROM)"},
		{"PostgreSQL not yet", nil, []string{"--db", "postgres://localhost/portico"}, "--db (PORTICO_DB)"},
		{"unknown flag", nil, []string{"--colour", "blue"}, "flag provided but not defined: -colour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runPortico(t, dir, tt.env, "", append([]string{"serve"}, tt.args...)...)
			if r.code != 2 {
				t.Fatalf("exit code %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("stderr %q does not name %q", r.stderr, tt.want)
			}
			if tt.name != "unknown flag" && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Fatalf("stderr is not one line: %q", r.stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Fatal("a refused start created the data directory")
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	r := runPortico(t, dir, nil, "", "migrate")
	if r.code != 0 {
		t.Fatalf("migrate = %d %q", r.code, r.stderr)
	}
	fi, err := os.Stat(filepath.Join(dir, "data", "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() < 32 {
		t.Fatalf("secret file mode %v size %d; want 0600 and 32+ bytes", fi.Mode().Perm(), fi.Size())
	}

	// PORTICO_SECRET overrides the file; a short one is refused.
	r = runPortico(t, dir, []string{"PORTICO_SECRET=abcd"}, "", "migrate", "--db", "other.db")
	if r.code == 0 || !strings.Contains(r.stderr, "PORTICO_SECRET") {
		t.Fatalf("migrate with a short PORTICO_SECRET = %d %q", r.code, r.stderr)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		r := runPortico(t, dir, nil, "", "migrate", "--db", "m.db")
		if r.code != 0 || !strings.Contains(r.stdout, "is migrated") {
			t.Fatalf("migrate #%d = %d %q %q", i+1, r.code, r.stdout, r.stderr)
		}
	}
}

func TestUserAdd(t *testing.T) {
	dir := t.TempDir()
	r := runPortico(t, dir, nil, "pässwörd with spaces\n", "user", "add", "--email", "Ada@Example.com", "--name", "Ada", "--admin", "--password-stdin")
	if r.code != 0 || !strings.Contains(r.stdout, "Added admin Ada <ada@example.com>") || strings.Contains(r.stdout, "pässwörd") {
		t.Fatalf("user add = %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runPortico(t, dir, nil, "", "user", "add", "--email", "bob@example.com", "--name", "Bob")
	if r.code != 0 || !strings.Contains(r.stdout, "Password (shown once): ") {
		t.Fatalf("user add with a generated password = %d %q %q", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"taken email", "another password\n", []string{"--email", "ADA@example.com", "--name", "Ada 2", "--password-stdin"}, 1, "ada@example.com"},
		{"short password", "short\n", []string{"--email", "c@example.com", "--name", "C", "--password-stdin"}, 2, "at least 8 characters"},
		{"bad email", "long enough pw\n", []string{"--email", "not-an-email", "--name", "D", "--password-stdin"}, 2, "not a valid address"},
		{"no name", "", []string{"--email", "e@example.com"}, 2, "--email and --name are required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runPortico(t, dir, nil, tc.stdin, append([]string{"user", "add"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("user add = %d %q; want %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
}
