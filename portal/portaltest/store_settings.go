package portaltest

import (
	"reflect"
	"time"

	"github.com/porticoapi/portico/portal"
)

var settingsTests = []storeTestCase{
	{"DefaultsUpdateAndInvalid", func(st *storeTest) {
		t := st.t
		got, err := st.s.FindSettings(st.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := portal.DefaultSettings(); !reflect.DeepEqual(*got, want) {
			t.Fatalf("FindSettings on a new store = %+v, want the defaults %+v", *got, want)
		}

		s := &portal.Settings{
			Title:           "  Contoso APIs ",
			AnonymousAccess: portal.AnonymousRedirect,
			BasicAuth: portal.BasicAuthSettings{
				SignIn: true, SignUp: false, EmailConfirmation: false,
				AllowedEmailDomains: []string{"@Contoso.com", "fabrikam.io", " contoso.com "},
				MinPasswordLength:   6,
			},
			TermsOfUse:    "Be nice.",
			InvitationTTL: 72 * time.Hour,
			Session:       portal.SessionSettings{IdleTimeout: 15 * time.Minute, AbsoluteTimeout: 8*time.Hour + 30*time.Second},
		}
		if err := st.s.UpdateSettings(st.ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err = st.s.FindSettings(st.ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := *s
		want.Title = "Contoso APIs"
		want.BasicAuth.AllowedEmailDomains = []string{"contoso.com", "fabrikam.io"}
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("FindSettings = %+v, want %+v", *got, want)
		}

		bad := want
		bad.Session.IdleTimeout = time.Second
		wantCode(t, st.s.UpdateSettings(st.ctx, &bad), portal.EINVALID)
		bad = want
		bad.AnonymousAccess = "deny"
		wantCode(t, st.s.UpdateSettings(st.ctx, &bad), portal.EINVALID)
		for _, n := range []int{5, 129, -1} {
			bad = want
			bad.BasicAuth.MinPasswordLength = n
			wantCode(t, st.s.UpdateSettings(st.ctx, &bad), portal.EINVALID)
		}
		for _, d := range []string{"contoso.com,fabrikam.com", "foo;", "contoso", "*.contoso.com", "-x.example", "a..example", "münchen.de", "a b.example"} {
			bad = want
			bad.BasicAuth.AllowedEmailDomains = []string{"ok.example", d}
			wantCode(t, st.s.UpdateSettings(st.ctx, &bad), portal.EINVALID)
		}
		if got, _ := st.s.FindSettings(st.ctx); got == nil || got.Session.IdleTimeout != 15*time.Minute {
			t.Fatalf("a refused update changed the settings: %+v", got)
		}
	}},
}
