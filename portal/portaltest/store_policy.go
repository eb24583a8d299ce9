package portaltest

import (
	"reflect"
	"time"

	"github.com/porticoapi/portico/portal"
)

// samplePolicies sets every field a store must give back as it was given,
// secrets included (they are stored sealed, not dropped).
func samplePolicies() portal.Policies {
	return portal.Policies{
		IPFilter: &portal.IPFilter{Action: portal.IPFilterAllow, Addresses: []string{"10.0.0.0/8", "2001:db8::1"},
			Ranges: []portal.IPRange{{From: "198.51.100.1", To: "198.51.100.20"}}},
		ClientCertificate: &portal.ClientCertificate{ValidateTrust: true, ValidateNotAfter: true,
			CACertificates: []string{"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
			Identities:     []portal.CertificateIdentity{{Thumbprint: "3F2A"}, {Subject: "CN=partner-app", IssuerSubject: "CN=Partner CA"}}},
		ValidateJWT: &portal.ValidateJWT{Header: "Authorization", RequireScheme: "Bearer",
			OpenIDConfig: []string{"https://login.example.com/.well-known/openid-configuration"},
			SigningKeys:  []string{"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"},
			Issuers:      []string{"https://login.example.com/"}, Audiences: []string{"api://echo"},
			RequiredClaims: []portal.RequiredClaim{{Name: "roles", Match: portal.ClaimMatchAny, Values: []string{"reader", "writer"}, Separator: ","}},
			ClockSkew:      30 * time.Second, RequireExpirationTime: true, RequireSignedTokens: true,
			FailedStatus: 403, FailedMessage: "No."},
		RateLimit: &portal.RateLimit{Calls: 10, Period: time.Minute},
	}
}

var policyTests = []storeTestCase{
	{"PoliciesAndBackendAuthRoundTrip", func(st *storeTest) {
		t := st.t
		a := st.api("echo")
		a.Policies = samplePolicies()
		a.Backend.Auth = &portal.BackendAuth{OAuthClientCredentials: &portal.OAuthClientCredentials{
			TokenURL: "https://login.example.com/token", ClientID: "gw", ClientSecret: "s3cret", Scope: "api://b/.default"}}
		if _, err := st.s.UpdateAPI(st.ctx, "echo", a); err != nil {
			t.Fatal(err)
		}
		got, err := st.s.FindAPIByName(st.ctx, "echo")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Policies, a.Policies) {
			t.Fatalf("policies = %+v, want %+v", got.Policies, a.Policies)
		}
		if !reflect.DeepEqual(got.Backend.Auth, a.Backend.Auth) {
			t.Fatalf("backend auth = %+v, want %+v", got.Backend.Auth, a.Backend.Auth)
		}
		list, _, err := st.s.FindAPIs(st.ctx, portal.APIFilter{WithOperations: true})
		if err != nil || len(list) != 1 || list[0].Policies.ValidateJWT == nil || list[0].Backend.Auth == nil {
			t.Fatalf("FindAPIs lost the policies: %+v, %v", list, err)
		}

		// Clearing them stores no policy at all.
		got.Policies, got.Backend.Auth = portal.Policies{}, nil
		if _, err := st.s.UpdateAPI(st.ctx, "echo", got); err != nil {
			t.Fatal(err)
		}
		got, err = st.s.FindAPIByName(st.ctx, "echo")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Policies.Empty() || got.Backend.Auth != nil {
			t.Fatalf("cleared policies came back: %+v %+v", got.Policies, got.Backend.Auth)
		}
	}},
	{"InvalidPoliciesRefused", func(st *storeTest) {
		a := st.api("echo")
		a.Policies.IPFilter = &portal.IPFilter{Action: "deny", Addresses: []string{"10.0.0.1"}}
		_, err := st.s.UpdateAPI(st.ctx, "echo", a)
		wantCode(st.t, err, portal.EINVALID)
		a.Policies.IPFilter = nil
		a.Backend.Auth = &portal.BackendAuth{Basic: &portal.BasicAuth{Username: "a"}, Certificate: &portal.CertificateAuth{CertificatePEM: "x", KeyPEM: "y"}}
		_, err = st.s.UpdateAPI(st.ctx, "echo", a)
		wantCode(st.t, err, portal.EINVALID)
	}},
}

var denialTests = []storeTestCase{
	{"RecordFindDelete", func(st *storeTest) {
		t := st.t
		before := st.version()
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		ds := []portal.Denial{
			{RequestID: "r1", At: t0, API: "echo", SubscriptionID: 7, Status: 401, Reason: "jwt_audience", Detail: "aud api://orders not in [api://echo]"},
			{RequestID: "r2", At: t0.Add(time.Second), API: "echo", Status: 403, Reason: "ip_forbidden", Detail: "caller 10.0.0.9"},
			{RequestID: "r3", At: t0.Add(2 * time.Second), API: "", SubscriptionID: 7, Status: 404, Reason: "no_api"},
		}
		if err := st.s.RecordDenials(st.ctx, ds); err != nil {
			t.Fatal(err)
		}
		if st.version() != before {
			t.Fatal("recording denials bumped the store version")
		}
		got, err := st.s.FindDenials(st.ctx, portal.DenialFilter{RequestID: "r1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], ds[0]) {
			t.Fatalf("by request id = %+v, want %+v", got, ds[0])
		}
		got, err = st.s.FindDenials(st.ctx, portal.DenialFilter{SubscriptionID: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].RequestID != "r3" || got[1].RequestID != "r1" {
			t.Fatalf("by subscription, newest first = %+v", got)
		}
		n, err := st.s.DeleteDenialsBefore(st.ctx, t0.Add(1500*time.Millisecond))
		if err != nil || n != 2 {
			t.Fatalf("DeleteDenialsBefore = %d, %v; want 2", n, err)
		}
		got, err = st.s.FindDenials(st.ctx, portal.DenialFilter{})
		if err != nil || len(got) != 1 || got[0].RequestID != "r3" {
			t.Fatalf("after delete = %+v, %v", got, err)
		}
	}},
}
