package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestProfileName: a developer changes their name from /profile; a bad
// name comes back in the form with the message and what was typed, and
// the email stays read-only.
func TestProfileName(t *testing.T) {
	e := newEnv(t)
	dev := e.cookieOf(t, "developer")

	p := e.getAs(t, "/profile", "developer")
	for _, want := range []string{`action="/profile"`, `data-testid="profile-name"`, `value="Dee Developer"`, `data-testid="profile-save"`, `data-testid="profile-email-hint"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("profile lacks %q", want)
		}
	}
	if strings.Contains(p.body, `name="email"`) {
		t.Errorf("the profile offers to change the email")
	}

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, typed, message string
		}{
			{"empty", "   ", "Name required."},
			{"too long", strings.Repeat("n", 201), "at most 200 characters"},
			{"line break", "Dee\r\nBcc: someone@example.com", "without tabs or other control characters"},
			{"tab", "Dee\tDeveloper", "without tabs or other control characters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.postForm(t, "/profile", dev, url.Values{"name": {tc.typed}})
				kept := []string{}
				if strings.TrimSpace(tc.typed) != "" {
					kept = append(kept, `value="`+tc.typed+`"`)
				}
				wantFormError(t, r, http.StatusBadRequest, tc.message, kept...)
				if !strings.Contains(r.body, `data-testid="profile-name"`) || !strings.Contains(r.body, `data-testid="subscription-row"`) {
					t.Errorf("the refused form is not the profile")
				}
				if got := e.userByEmail(t, developerEmail).Name; got != "Dee Developer" {
					t.Fatalf("name changed to %q by a refused form", got)
				}
			})
		}
	})

	t.Run("saved", func(t *testing.T) {
		r := e.postForm(t, "/profile", dev, url.Values{"name": {"  Dee Q. Developer "}})
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/profile" {
			t.Fatalf("save = %d to %q\n%s", r.status, r.header.Get("Location"), r.body)
		}
		if got := e.userByEmail(t, developerEmail).Name; got != "Dee Q. Developer" {
			t.Fatalf("stored name %q", got)
		}
		p := e.getAs(t, "/profile", "developer")
		if !strings.Contains(p.body, "Your name is saved: Dee Q. Developer.") || !strings.Contains(p.body, `value="Dee Q. Developer"`) {
			t.Errorf("profile after saving lacks the notice or the new name\n%s", p.body)
		}
		// The email is untouched even when sent.
		r = e.postForm(t, "/profile", dev, url.Values{"name": {"Dee"}, "email": {"eve@example.com"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("save with an email = %d", r.status)
		}
		if u := e.userByEmail(t, developerEmail); u.Name != "Dee" {
			t.Errorf("name %q after the second save", u.Name)
		}
	})

	t.Run("cross-origin", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {dev}, "Sec-Fetch-Site": {"cross-site"}}
		r := e.send(t, http.MethodPost, "/profile", strings.NewReader("name=Mallory"), h)
		if r.status != http.StatusForbidden {
			t.Errorf("cross-site save = %d, want 403", r.status)
		}
		if got := e.userByEmail(t, developerEmail).Name; got == "Mallory" {
			t.Errorf("a cross-site form changed the name")
		}
	})

	t.Run("anonymous", func(t *testing.T) {
		r := e.postForm(t, "/profile", "", url.Values{"name": {"Nobody"}})
		if r.status != http.StatusUnauthorized {
			t.Errorf("anonymous save = %d, want 401", r.status)
		}
	})
}
