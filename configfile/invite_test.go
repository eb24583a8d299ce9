package configfile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/portal"
)

// TestInviteFromFile: `invite: true` creates a pending user without a
// password and records an invitation (in the same transaction), valid for
// the file's invitation_ttl; the plan hands back the token for the link;
// applying again changes nothing and invites nobody; an accepted user
// keeps their state.
func TestInviteFromFile(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	c := Config{Store: s}
	path := writeConfig(t, `portal:
  title: Contoso
  invitation_ttl: 24h
users:
  - email: Ivy@Example.com
    name: Ivy
    role: admin
    invite: true
`)
	dry, err := plan(t, path, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := diffText(t, dry); !strings.Contains(got, "+ user ivy@example.com (invited)\n") {
		t.Fatalf("diff:\n%s", got)
	}
	before := time.Now()
	p := mustApply(t, path, c, PlanOptions{})
	invs := p.Invitations()
	if len(invs) != 1 || invs[0].Email != "ivy@example.com" || invs[0].Name != "Ivy" || invs[0].Role != portal.RoleAdmin ||
		invs[0].TTL != 24*time.Hour || invs[0].ExpiresAt.Before(before.Add(24*time.Hour)) || len(invs[0].Token) != 43 {
		t.Fatalf("invitations %+v", invs)
	}
	u, err := s.FindUserByEmail(ctx, "ivy@example.com")
	if err != nil || u.State != portal.UserPending || u.PasswordHash != "" || u.Role != portal.RoleAdmin {
		t.Fatalf("invited user %+v, %v", u, err)
	}
	sum := sha256.Sum256([]byte(invs[0].Token))
	tok, err := s.FindAccountToken(ctx, hex.EncodeToString(sum[:]), portal.TokenInvitation, time.Now())
	if err != nil || tok.UserID != u.ID {
		t.Fatalf("stored invitation %+v, %v", tok, err)
	}

	again, err := plan(t, path, c, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := diffText(t, again); !again.Empty() || len(again.Invitations()) != 0 {
		t.Fatalf("second plan:\n%s", got)
	}
	// Once accepted (active), the file's invite leaves the state alone.
	active := portal.UserActive
	if _, err := s.UpdateUser(ctx, u.ID, portal.UserUpdate{State: &active}); err != nil {
		t.Fatal(err)
	}
	if again, err = plan(t, path, c, PlanOptions{}); err != nil || !again.Empty() {
		t.Fatalf("plan after accepting: %v\n%s", err, diffText(t, again))
	}
}
