package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"client without secret", []string{"--client", "portal"}, `devidp: --client "portal": want id:secret`},
		{"client with a relative redirect", []string{"--client", "portal:s:/callback"}, `devidp: --client "portal:s:/callback": redirect URI`},
		{"user with four fields", []string{"--user", "u:a@example.org:A:tid"}, `devidp: --user "u:a@example.org:A:tid": want sub:email:name`},
		{"user without subject", []string{"--user", ":a@example.org:A"}, `devidp: --user ":a@example.org:A"`},
		{"issuer", []string{"--issuer", "ftp://idp.example.com"}, `devidp: --issuer "ftp://idp.example.com"`},
		{"address", []string{"--addr", "nowhere"}, `devidp: --addr "nowhere"`},
		{"argument", []string{"extra"}, `devidp: unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != exitUsage || !strings.HasPrefix(stderr.String(), tc.want) || strings.Count(stderr.String(), "\n") != 1 || stdout.Len() != 0 {
				t.Fatalf("= %d, stderr %q; want 2 and one line starting %q", code, stderr.String(), tc.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun: the first line names the bound URL, the provider serves its
// discovery there with the flags' client, the control API only with
// --control, and cancelling (as SIGTERM does) exits 0.
func TestRun(t *testing.T) {
	for _, withControl := range []bool{false, true} {
		args := []string{"--client", "portal:s3cret:http://127.0.0.1:1/signin/dev/callback", "--user", "u-1:one@example.org:One"}
		if withControl {
			args = append(args, "--control")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr syncBuffer
		code := make(chan int, 1)
		go func() { code <- run(ctx, args, &stdout, &stderr) }()
		var base string
		for deadline := time.Now().Add(5 * time.Second); base == ""; {
			if first, _, ok := strings.Cut(stdout.String(), "\n"); ok {
				base = strings.TrimPrefix(first, "devidp listening on ")
				if base == first || !strings.HasPrefix(base, "http://127.0.0.1:") {
					t.Fatalf("first line %q", first)
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no first line; stderr %q", stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		res, err := http.Get(base + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ Issuer string }
		json.NewDecoder(res.Body).Decode(&d)
		res.Body.Close()
		if res.StatusCode != 200 || d.Issuer != base {
			t.Fatalf("discovery = %d issuer %q, want %q", res.StatusCode, d.Issuer, base)
		}
		res, err = http.Get(base + "/_control/counters")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := map[bool]int{false: 404, true: 200}[withControl]; res.StatusCode != want {
			t.Fatalf("control=%v: counters = %d, want %d", withControl, res.StatusCode, want)
		}
		cancel()
		select {
		case c := <-code:
			if c != exitOK {
				t.Fatalf("exit %d; stderr %q", c, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("did not stop when cancelled")
		}
	}
}
