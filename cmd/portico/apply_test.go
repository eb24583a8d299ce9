package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	ciKey       = "ci0123456789abcdef0123456789abcd"
	opsPassword = "ops-password-from-env"
)

// e2eDir copies testdata/e2e into a temporary directory, so that exports
// written beside the config do not touch the repository.
func e2eDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/e2e")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func e2eEnv(backend string) []string {
	return []string{"BACKEND_URL=" + backend, "OPS_PASSWORD=" + opsPassword, "CI_KEY=" + ciKey}
}

// TestApplyExport drives `portico apply` and `portico export` as an
// operator would: a dry run writes nothing, apply is idempotent, and an
// export applies back with no changes, also from another directory.
func TestApplyExport(t *testing.T) {
	dir := e2eDir(t)
	env := e2eEnv("http://127.0.0.1:9")

	r := runPortico(t, dir, env, "", "apply", "-f", "portico.yaml", "--dry-run")
	if r.code != 0 {
		t.Fatalf("apply --dry-run = %d %q", r.code, r.stderr)
	}
	for _, want := range []string{"+ api orders", "+ api status", "+ product gold", "+ user ops@example.com", "+ subscription ci-bot"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Applied") {
		t.Fatalf("dry run says it applied:\n%s", r.stdout)
	}
	r = runPortico(t, dir, env, "", "apply", "-f", "portico.yaml", "--dry-run")
	if !strings.Contains(r.stdout, "+ api orders") {
		t.Fatalf("second dry run found the APIs already there, so the first wrote them:\n%s", r.stdout)
	}

	r = runPortico(t, dir, env, "", "apply", "-f", "portico.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "Applied portico.yaml.") {
		t.Fatalf("apply = %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runPortico(t, dir, env, "", "apply", "-f", "portico.yaml")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "No changes." {
		t.Fatalf("second apply = %d %q %q; want No changes.", r.code, r.stdout, r.stderr)
	}

	// A changed environment shows as a change of exactly that field.
	r = runPortico(t, dir, e2eEnv("http://127.0.0.1:10"), "", "apply", "-f", "portico.yaml", "--dry-run")
	if !strings.Contains(r.stdout, "~ api orders: backend.url http://127.0.0.1:9 -> http://127.0.0.1:10") {
		t.Fatalf("dry run after a backend change:\n%s", r.stdout)
	}

	r = runPortico(t, dir, nil, "", "export")
	if r.code != 0 {
		t.Fatalf("export = %d %q", r.code, r.stderr)
	}
	for _, secret := range []string{ciKey, opsPassword, "$argon2id"} {
		if strings.Contains(r.stdout, secret) {
			t.Fatalf("export shows a secret %q:\n%s", secret, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "name: orders") || !strings.Contains(r.stdout, "shop/orders") {
		t.Fatalf("export lacks the orders API:\n%s", r.stdout)
	}
	os.WriteFile(filepath.Join(dir, "exported.yaml"), []byte(r.stdout), 0o600)
	r = runPortico(t, dir, nil, "", "apply", "-f", "exported.yaml")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "No changes." {
		t.Fatalf("apply of the export = %d %q %q; want No changes.", r.code, r.stdout, r.stderr)
	}

	// export --dir writes a tree that applies from anywhere.
	out := filepath.Join(t.TempDir(), "backup")
	r = runPortico(t, dir, nil, "", "export", "--dir", out)
	if r.code != 0 {
		t.Fatalf("export --dir = %d %q", r.code, r.stderr)
	}
	r = runPortico(t, dir, nil, "", "apply", "-f", filepath.Join(out, "portico.yaml"))
	if r.code != 0 || strings.TrimSpace(r.stdout) != "No changes." {
		t.Fatalf("apply of export --dir = %d %q %q; want No changes.", r.code, r.stdout, r.stderr)
	}
}

// TestApplyRefusesBadFile checks that a file with one bad entry names its
// line and changes nothing.
func TestApplyRefusesBadFile(t *testing.T) {
	dir := e2eDir(t)
	r := runPortico(t, dir, nil, "", "apply", "-f", "bad.yaml")
	if r.code != 2 {
		t.Fatalf("apply bad.yaml = %d, want 2; %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "bad.yaml:8: products[0].subscriptions_limit") {
		t.Fatalf("error does not name the line and key: %q", r.stderr)
	}
	r = runPortico(t, dir, nil, "", "export")
	if strings.Contains(r.stdout, "name: fine") {
		t.Fatalf("the good API of a refused file was written:\n%s", r.stdout)
	}

	r = runPortico(t, dir, nil, "", "apply", "-f", "portico.yaml")
	if r.code != 2 || !strings.Contains(r.stderr, "BACKEND_URL") {
		t.Fatalf("apply without its environment = %d %q; want 2 naming BACKEND_URL", r.code, r.stderr)
	}
	r = runPortico(t, dir, nil, "", "apply")
	if r.code != 2 || !strings.Contains(r.stderr, "-f FILE is required") {
		t.Fatalf("apply without -f = %d %q", r.code, r.stderr)
	}
}
