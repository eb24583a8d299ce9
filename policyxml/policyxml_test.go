package policyxml_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porticoapi/portico/policyxml"
	"github.com/porticoapi/portico/portal"
)

// convert converts doc and fails the test on any problem.
func convert(t *testing.T, doc string) *policyxml.Result {
	t.Helper()
	res, err := policyxml.Convert([]byte(doc))
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	if res == nil {
		t.Fatal("Convert returned neither a result nor an error")
	}
	return res
}

// problems converts doc and returns its problems; it fails the test when
// the document converts.
func problems(t *testing.T, doc string) []policyxml.Problem {
	t.Helper()
	res, err := policyxml.Convert([]byte(doc))
	if err == nil {
		t.Fatalf("Convert succeeded (%+v), want problems", res)
	}
	if res != nil {
		t.Fatalf("Convert returned a result with an error: %+v", res)
	}
	var perr *policyxml.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %T %v is not a *policyxml.Error", err, err)
	}
	if len(perr.Problems) == 0 {
		t.Fatal("an *Error without problems")
	}
	return perr.Problems
}

func TestConvertEntraIDValidateJWT(t *testing.T) {
	// The shape of APIM's documented Entra ID example, with the sections
	// a policy editor shows.
	doc := `<policies>
    <inbound>
        <base />
        <validate-jwt header-name="Authorization" failed-validation-httpcode="401"
                      failed-validation-error-message="Unauthorized. Access token is missing or invalid."
                      require-scheme="Bearer" clock-skew="30">
            <openid-config url="https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration" />
            <audiences>
                <audience>api://orders</audience>
                <audience>6a1c7f0e-0000-4000-8000-000000000001</audience>
            </audiences>
            <issuers>
                <issuer>https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0</issuer>
            </issuers>
            <required-claims>
                <claim name="roles" match="any">
                    <value>Orders.Read</value>
                    <value>Orders.Write</value>
                </claim>
                <claim name="scp" match="all" separator=" ">
                    <value>orders.read</value>
                </claim>
                <claim name="tid" />
            </required-claims>
        </validate-jwt>
    </inbound>
    <backend>
        <forward-request />
    </backend>
    <outbound>
        <base />
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>`
	res := convert(t, doc)
	want := &portal.ValidateJWT{
		Header:        "Authorization",
		RequireScheme: "Bearer",
		OpenIDConfig:  []string{"https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"},
		Issuers:       []string{"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
		Audiences:     []string{"api://orders", "6a1c7f0e-0000-4000-8000-000000000001"},
		RequiredClaims: []portal.RequiredClaim{
			{Name: "roles", Match: "any", Values: []string{"Orders.Read", "Orders.Write"}},
			{Name: "scp", Match: "all", Values: []string{"orders.read"}, Separator: " "},
			{Name: "tid", Match: "all"},
		},
		ClockSkew:             30 * time.Second,
		RequireExpirationTime: true,
		RequireSignedTokens:   true,
		FailedStatus:          401,
		FailedMessage:         "Unauthorized. Access token is missing or invalid.",
	}
	if !reflect.DeepEqual(res.Policies.ValidateJWT, want) {
		t.Fatalf("ValidateJWT:\n got %+v\nwant %+v", res.Policies.ValidateJWT, want)
	}
	if res.Policies.IPFilter != nil || res.Policies.ClientCertificate != nil || res.Policies.RateLimit != nil || res.BackendAuth != nil {
		t.Fatalf("unexpected policies: %+v %+v", res.Policies, res.BackendAuth)
	}
	if err := res.Policies.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(res.Notes) != 0 {
		t.Fatalf("notes: %v", res.Notes)
	}
}

func TestConvertValidateJWTDefaultsAndOptions(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want portal.ValidateJWT
	}{
		{
			name: "defaults",
			doc:  `<inbound><validate-jwt><openid-config url="https://idp.example.com/.well-known/openid-configuration"/></validate-jwt></inbound>`,
			want: portal.ValidateJWT{Header: "Authorization", OpenIDConfig: []string{"https://idp.example.com/.well-known/openid-configuration"},
				RequireExpirationTime: true, RequireSignedTokens: true, FailedStatus: 401},
		},
		{
			name: "query parameter, falses, custom status, several openid-config",
			doc: `<inbound><validate-jwt query-parameter-name="access_token" require-expiration-time="False" require-signed-tokens="false" failed-validation-httpcode="403">
				<openid-config url="https://a.example.com/.well-known/openid-configuration"/>
				<openid-config url="https://b.example.com/.well-known/openid-configuration" validate-connectivity="false"/>
				</validate-jwt></inbound>`,
			want: portal.ValidateJWT{Query: "access_token",
				OpenIDConfig: []string{"https://a.example.com/.well-known/openid-configuration", "https://b.example.com/.well-known/openid-configuration"},
				FailedStatus: 403},
		},
		{
			name: "symmetric key, with and without id",
			doc: `<inbound><validate-jwt header-name="X-Token">
				<issuer-signing-keys>
					<key>c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0</key>
					<key id="k1">c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0</key>
				</issuer-signing-keys></validate-jwt></inbound>`,
			want: portal.ValidateJWT{Header: "X-Token",
				SigningKeys: []string{"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
					`{"kty":"oct","kid":"k1","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}`},
				RequireExpirationTime: true, RequireSignedTokens: true, FailedStatus: 401},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := convert(t, tt.doc)
			if !reflect.DeepEqual(*res.Policies.ValidateJWT, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", *res.Policies.ValidateJWT, tt.want)
			}
			if err := res.Policies.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestConvertOutputTokenVariableIsANote(t *testing.T) {
	res := convert(t, "<inbound>\n<validate-jwt output-token-variable-name=\"jwt\"><openid-config url=\"https://a.example/x\"/></validate-jwt></inbound>")
	if len(res.Notes) != 1 || res.Notes[0].Line != 2 || res.Notes[0].Element != "validate-jwt" || !strings.Contains(res.Notes[0].Message, "output-token-variable-name") {
		t.Fatalf("notes: %+v", res.Notes)
	}
}

func TestConvertRSAKeyToJWK(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	n := base64.RawURLEncoding.EncodeToString(key.N.Bytes())
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())
	doc := `<inbound><validate-jwt header-name="Authorization">
		<issuer-signing-keys><key id="rsa-1" n="` + n + `" e="` + e + `" /></issuer-signing-keys>
		<audiences><audience>api://echo</audience></audiences>
	</validate-jwt></inbound>`
	res := convert(t, doc)
	keys := res.Policies.ValidateJWT.SigningKeys
	if len(keys) != 1 {
		t.Fatalf("signing keys: %q", keys)
	}
	var jwk struct{ Kty, Kid, N, E string }
	if err := json.Unmarshal([]byte(keys[0]), &jwk); err != nil {
		t.Fatalf("not JSON: %v: %s", err, keys[0])
	}
	if jwk.Kty != "RSA" || jwk.Kid != "rsa-1" {
		t.Fatalf("kty %q kid %q", jwk.Kty, jwk.Kid)
	}
	gotN, _ := base64.RawURLEncoding.DecodeString(jwk.N)
	gotE, _ := base64.RawURLEncoding.DecodeString(jwk.E)
	if new(big.Int).SetBytes(gotN).Cmp(key.N) != 0 || new(big.Int).SetBytes(gotE).Int64() != int64(key.E) {
		t.Fatalf("the JWK holds another key: %s", keys[0])
	}
	if err := res.Policies.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestConvertIPFilter(t *testing.T) {
	doc := `<policies>
	<inbound>
		<base />
		<ip-filter action="allow">
			<address>13.66.201.169</address>
			<address>10.0.0.0/8</address>
			<address>2001:db8::1</address>
			<address-range from="13.66.140.128" to="13.66.140.143" />
			<address-range from="2001:db8::100" to="2001:db8::1ff" />
		</ip-filter>
	</inbound>
</policies>`
	res := convert(t, doc)
	want := &portal.IPFilter{
		Action:    "allow",
		Addresses: []string{"13.66.201.169", "10.0.0.0/8", "2001:db8::1"},
		Ranges:    []portal.IPRange{{From: "13.66.140.128", To: "13.66.140.143"}, {From: "2001:db8::100", To: "2001:db8::1ff"}},
	}
	if !reflect.DeepEqual(res.Policies.IPFilter, want) {
		t.Fatalf("\n got %+v\nwant %+v", res.Policies.IPFilter, want)
	}
	if err := res.Policies.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	forbid := convert(t, `<inbound><ip-filter action="forbid"><address>203.0.113.7</address></ip-filter></inbound>`)
	if got := forbid.Policies.IPFilter.Action; got != "forbid" {
		t.Fatalf("action %q", got)
	}
}

func TestConvertClientCertificate(t *testing.T) {
	doc := `<policies>
	<inbound>
		<validate-client-certificate validate-revocation="false" validate-trust="true" validate-not-before="true" validate-not-after="false" ignore-error="false">
			<identities>
				<identity thumbprint="3f2a 0b11 22c3 44d5 66e7 88f9 0a1b 2c3d 4e5f 6a7b" />
				<identity subject="CN=partner-app, O=&quot;Partner, Inc.&quot;, C=US" issuer-subject="CN=Partner CA, O=Partner" />
				<identity common-name="partner-app" dns-name="partner.example.com" serial-number="01:AB:cd" issuer-thumbprint="0123456789ABCDEF0123456789ABCDEF01234567" />
			</identities>
		</validate-client-certificate>
	</inbound>
</policies>`
	res := convert(t, doc)
	want := &portal.ClientCertificate{
		ValidateTrust:     true,
		ValidateNotBefore: true,
		Identities: []portal.CertificateIdentity{
			{Thumbprint: "3F2A0B1122C344D566E788F90A1B2C3D4E5F6A7B"},
			{Subject: `CN=partner-app,O=Partner\, Inc.,C=US`, IssuerSubject: "CN=Partner CA,O=Partner"},
			{CommonName: "partner-app", DNSName: "partner.example.com", SerialNumber: "01ABCD", IssuerThumbprint: "0123456789ABCDEF0123456789ABCDEF01234567"},
		},
	}
	if !reflect.DeepEqual(res.Policies.ClientCertificate, want) {
		t.Fatalf("\n got %+v\nwant %+v", res.Policies.ClientCertificate, want)
	}
	// validate-trust needs the CA certificates of the config file.
	if len(res.Notes) != 1 || res.Notes[0].Element != "validate-client-certificate" || res.Notes[0].Line != 3 || !strings.Contains(res.Notes[0].Message, "ca_files") {
		t.Fatalf("notes: %+v", res.Notes)
	}
	if err := res.Policies.Validate(); err == nil {
		t.Fatal("Validate passed validate-trust without CA certificates")
	}
	res.Policies.ClientCertificate.CACertificates = []string{"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"}
	if err := res.Policies.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	noTrust := convert(t, `<inbound><validate-client-certificate validate-revocation="false" validate-trust="false" /></inbound>`)
	if cc := noTrust.Policies.ClientCertificate; cc.ValidateTrust || !cc.ValidateNotBefore || !cc.ValidateNotAfter || len(noTrust.Notes) != 0 {
		t.Fatalf("got %+v, notes %v", cc, noTrust.Notes)
	}
}

func TestConvertBackendAuthAndRateLimit(t *testing.T) {
	doc := `<policies>
	<inbound>
		<base />
		<rate-limit calls="100" renewal-period="60" />
		<authentication-basic username="svc" password="p@ss:word" />
	</inbound>
	<backend>
		<base />
	</backend>
</policies>`
	res := convert(t, doc)
	if rl := res.Policies.RateLimit; rl == nil || rl.Calls != 100 || rl.Period != time.Minute {
		t.Fatalf("rate limit %+v", rl)
	}
	if b := res.BackendAuth; b == nil || b.Basic == nil || *b.Basic != (portal.BasicAuth{Username: "svc", Password: "p@ss:word"}) || b.Certificate != nil {
		t.Fatalf("backend auth %+v", res.BackendAuth)
	}
	if err := res.Policies.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := res.BackendAuth.Validate(); err != nil {
		t.Fatalf("BackendAuth.Validate: %v", err)
	}
}

func TestConvertForwardRequestTimeoutIsANote(t *testing.T) {
	res := convert(t, "<policies>\n<inbound><base/></inbound>\n<backend>\n<forward-request timeout=\"60\" follow-redirects=\"false\"/>\n</backend>\n</policies>")
	if len(res.Notes) != 1 || res.Notes[0].Line != 4 || res.Notes[0].Element != "forward-request" || !strings.Contains(res.Notes[0].Message, "backend.timeout") {
		t.Fatalf("notes: %+v", res.Notes)
	}
	if !res.Policies.Empty() || res.BackendAuth != nil {
		t.Fatalf("policies %+v", res.Policies)
	}
}

func TestConvertAuthenticationCertificateBody(t *testing.T) {
	body, err := os.ReadFile("testdata/client.p12.b64")
	if err != nil {
		t.Fatal(err)
	}
	doc := `<inbound><authentication-certificate body="` + string(body) + `" password="s3cret" /></inbound>`
	res := convert(t, doc)
	ca := res.BackendAuth.Certificate
	if ca == nil {
		t.Fatalf("backend auth %+v", res.BackendAuth)
	}
	if err := res.BackendAuth.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	pair, err := tls.X509KeyPair([]byte(ca.CertificatePEM), []byte(ca.KeyPEM))
	if err != nil {
		t.Fatalf("the certificate and key do not make a pair: %v", err)
	}
	if len(pair.Certificate) != 2 {
		t.Fatalf("chain of %d certificates, want leaf and CA", len(pair.Certificate))
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "portico-gateway" {
		t.Fatalf("first certificate is %q, want the leaf", leaf.Subject.CommonName)
	}
	if b, _ := pem.Decode([]byte(ca.KeyPEM)); b == nil || b.Type != "PRIVATE KEY" {
		t.Fatalf("key is not PKCS #8 PEM")
	}

	ps := problems(t, `<inbound><authentication-certificate body="`+string(body)+`" password="wrong" /></inbound>`)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "cert_file") || strings.Contains(ps[0].Message, "wrong") {
		t.Fatalf("problems: %v", ps)
	}
}

func TestConvertBareInboundFragment(t *testing.T) {
	res := convert(t, `<?xml version="1.0" encoding="utf-8"?>
<!-- pasted from the APIM portal -->
<inbound>
	<base />
	<ip-filter action="forbid"><address>198.51.100.9</address></ip-filter>
</inbound>`)
	if res.Policies.IPFilter == nil || res.Policies.IPFilter.Action != "forbid" {
		t.Fatalf("policies %+v", res.Policies)
	}
}

func TestConvertReportsEveryUnsupportedElement(t *testing.T) {
	doc := `<policies>
	<inbound>
		<base />
		<cors allow-credentials="true">
			<allowed-origins><origin>https://contoso.com</origin></allowed-origins>
		</cors>
		<set-header name="X-Env" exists-action="override">
			<value>prod</value>
		</set-header>
		<validate-jwt header-name="Authorization">
			<openid-config url="https://idp.example.com/.well-known/openid-configuration" />
		</validate-jwt>
		<choose>
			<when condition="@(context.Request.Method == &quot;POST&quot;)">
				<rate-limit calls="5" renewal-period="60" />
			</when>
		</choose>
		<validate-jwt query-parameter-name="token" />
		<authentication-managed-identity resource="api://backend" />
	</inbound>
	<backend>
		<retry condition="true" count="3" interval="1"><forward-request /></retry>
	</backend>
	<outbound>
		<base />
		<set-body>hello</set-body>
	</outbound>
	<on-error>
		<return-response />
	</on-error>
</policies>`
	ps := problems(t, doc)
	type at struct {
		line int
		el   string
	}
	want := []at{{4, "cors"}, {7, "set-header"}, {13, "choose"}, {18, "validate-jwt"}, {19, "authentication-managed-identity"}, {22, "retry"}, {26, "set-body"}, {29, "return-response"}}
	var got []at
	for _, p := range ps {
		got = append(got, at{p.Line, p.Element})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got %v\nwant %v\n%v", got, want, &policyxml.Error{Problems: ps})
	}
	if !strings.Contains(ps[3].Message, "twice (first at line 10)") {
		t.Fatalf("duplicate message: %q", ps[3].Message)
	}
	if !strings.Contains(ps[4].Message, "oauth_client_credentials") {
		t.Fatalf("managed identity message: %q", ps[4].Message)
	}
}

func TestConvertProblems(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		line    int
		element string
		message string // a part of the message
	}{
		{"token-value", `<inbound><validate-jwt token-value="@(context.Request.Headers.GetValueOrDefault(&quot;X&quot;))"><openid-config url="https://a.example/x"/></validate-jwt></inbound>`, 1, "validate-jwt", "token-value"},
		{"expression in an attribute", "<inbound>\n<ip-filter action=\"@(context.Variables[&quot;a&quot;])\"><address>1.2.3.4</address></ip-filter></inbound>", 2, "ip-filter", "policy expression"},
		{"multi-statement expression in a value", "<inbound>\n<ip-filter action=\"allow\">\n<address>@{ return \"1.2.3.4\"; }</address></ip-filter></inbound>", 3, "address", "policy expression"},
		{"named value in a secret", "<inbound>\n\n<authentication-basic username=\"svc\" password=\"{{backend-password}}\" /></inbound>", 3, "authentication-basic", "${ENV_NAME}"},
		{"named value inside a value", `<inbound><validate-jwt><openid-config url="https://login.microsoftonline.com/{{tenant}}/v2.0/.well-known/openid-configuration"/></validate-jwt></inbound>`, 1, "openid-config", "named value"},
		{"output token variable is a note, an unknown attribute is not", `<inbound><validate-jwt output-token-variable-name="jwt" foo="1"><openid-config url="https://a.example/x"/></validate-jwt></inbound>`, 1, "validate-jwt", "attribute foo"},
		{"header and query", `<inbound><validate-jwt header-name="A" query-parameter-name="b"><openid-config url="https://a.example/x"/></validate-jwt></inbound>`, 1, "validate-jwt", "not both"},
		{"bad status", `<inbound><validate-jwt failed-validation-httpcode="200"><openid-config url="https://a.example/x"/></validate-jwt></inbound>`, 1, "validate-jwt", "400-599"},
		{"bad clock skew", `<inbound><validate-jwt clock-skew="5m"><openid-config url="https://a.example/x"/></validate-jwt></inbound>`, 1, "validate-jwt", "clock-skew"},
		{"bad boolean", `<inbound><validate-jwt require-signed-tokens="yes"><openid-config url="https://a.example/x"/></validate-jwt></inbound>`, 1, "validate-jwt", "true or false"},
		{"no key source", `<inbound><validate-jwt><audiences><audience>a</audience></audiences></validate-jwt></inbound>`, 1, "validate-jwt", "openid_config or signing_keys"},
		{"certificate-id key", "<inbound><validate-jwt>\n<issuer-signing-keys>\n<key certificate-id=\"jwt-cert\" /></issuer-signing-keys></validate-jwt></inbound>", 3, "key", "signing_keys"},
		{"key not base64", `<inbound><validate-jwt><issuer-signing-keys><key>not*base64</key></issuer-signing-keys></validate-jwt></inbound>`, 1, "key", "not base64"},
		{"RSA key without e", `<inbound><validate-jwt><issuer-signing-keys><key n="AQAB" /></issuer-signing-keys></validate-jwt></inbound>`, 1, "key", "n and e"},
		{"decryption keys", "<inbound><validate-jwt><openid-config url=\"https://a.example/x\"/>\n<decryption-keys><key>AAAA</key></decryption-keys></validate-jwt></inbound>", 2, "decryption-keys", "JWE"},
		{"claim match", `<inbound><validate-jwt><openid-config url="https://a.example/x"/><required-claims><claim name="r" match="some"/></required-claims></validate-jwt></inbound>`, 1, "claim", "all or any"},
		{"claim without name", `<inbound><validate-jwt><openid-config url="https://a.example/x"/><required-claims><claim><value>x</value></claim></required-claims></validate-jwt></inbound>`, 1, "claim", "name is required"},
		{"empty audience", `<inbound><validate-jwt><openid-config url="https://a.example/x"/><audiences><audience> </audience></audiences></validate-jwt></inbound>`, 1, "audience", "value is required"},
		{"ip-filter bad action", `<inbound><ip-filter action="deny"><address>1.2.3.4</address></ip-filter></inbound>`, 1, "ip-filter", "allow or forbid"},
		{"ip-filter bad address", "<inbound><ip-filter action=\"allow\">\n<address>1.2.3.400</address></ip-filter></inbound>", 2, "address", "not an IP address"},
		{"ip-filter reversed range", "<inbound><ip-filter action=\"allow\">\n\n<address-range from=\"10.0.0.9\" to=\"10.0.0.1\"/></ip-filter></inbound>", 3, "address-range", "upward"},
		{"ip-filter empty", `<inbound><ip-filter action="allow"/></inbound>`, 1, "ip-filter", "at least one"},
		{"revocation by default", `<inbound><validate-client-certificate validate-trust="false"/></inbound>`, 1, "validate-client-certificate", "validate-revocation=\"false\""},
		{"revocation asked", `<inbound><validate-client-certificate validate-revocation="true" validate-trust="false"/></inbound>`, 1, "validate-client-certificate", "revocation"},
		{"ignore-error", `<inbound><validate-client-certificate validate-revocation="false" ignore-error="true"/></inbound>`, 1, "validate-client-certificate", "ignore-error"},
		{"issuer-certificate-id", "<inbound><validate-client-certificate validate-revocation=\"false\"><identities>\n<identity issuer-certificate-id=\"ca\"/></identities></validate-client-certificate></inbound>", 2, "identity", "ca_files"},
		{"bad thumbprint", `<inbound><validate-client-certificate validate-revocation="false"><identities><identity thumbprint="3F2A"/></identities></validate-client-certificate></inbound>`, 1, "identity", "40 hex digits"},
		{"empty identity", `<inbound><validate-client-certificate validate-revocation="false"><identities><identity/></identities></validate-client-certificate></inbound>`, 1, "identity", "at least one attribute"},
		{"certificate by thumbprint", `<inbound><authentication-certificate thumbprint="3F2A0B1122C344D566E788F90A1B2C3D4E5F6A7B"/></inbound>`, 1, "authentication-certificate", "cert_file and key_file"},
		{"certificate by id", `<inbound><authentication-certificate certificate-id="backend-cert"/></inbound>`, 1, "authentication-certificate", "cert_file and key_file"},
		{"certificate body not base64", `<inbound><authentication-certificate body="***" password="x"/></inbound>`, 1, "authentication-certificate", "not base64"},
		{"basic without password", `<inbound><authentication-basic username="svc"/></inbound>`, 1, "authentication-basic", "password is required"},
		{"basic username with colon", `<inbound><authentication-basic username="a:b" password="x"/></inbound>`, 1, "authentication-basic", "username"},
		{"two backend auths", "<inbound><authentication-basic username=\"a\" password=\"x\"/>\n<authentication-certificate certificate-id=\"c\"/></inbound>", 2, "authentication-certificate", "only one backend authentication"},
		{"rate-limit per operation", "<inbound><rate-limit calls=\"10\" renewal-period=\"60\">\n<api name=\"orders\" calls=\"5\" renewal-period=\"60\"><operation name=\"get\" calls=\"1\" renewal-period=\"60\"/></api></rate-limit></inbound>", 2, "api", "per API or operation"},
		{"rate-limit header", `<inbound><rate-limit calls="10" renewal-period="60" remaining-calls-header-name="X-Remaining"/></inbound>`, 1, "rate-limit", "remaining-calls-header-name"},
		{"rate-limit bounds", `<inbound><rate-limit calls="0" renewal-period="60"/></inbound>`, 1, "rate-limit", "calls >= 1"},
		{"rate-limit not a number", `<inbound><rate-limit calls="ten" renewal-period="60"/></inbound>`, 1, "rate-limit", "calls must be a number"},
		{"unsupported twice", "<inbound><set-header name=\"a\"/>\n<set-header name=\"b\"/></inbound>", 1, "set-header", "not supported by Portico"},
		{"duplicate rate-limit", "<inbound><rate-limit calls=\"1\" renewal-period=\"1\"/>\n<rate-limit calls=\"1\" renewal-period=\"1\"/></inbound>", 2, "rate-limit", "twice"},
		{"forward-request follows redirects", `<policies><backend><forward-request follow-redirects="true"/></backend></policies>`, 1, "forward-request", "follow-redirects"},
		{"forward-request buffering", `<policies><backend><forward-request buffer-response="false"/></backend></policies>`, 1, "forward-request", "buffer-response"},
		{"validate-jwt in backend", `<policies><backend><validate-jwt/></backend></policies>`, 1, "validate-jwt", "<backend>"},
		{"section twice", "<policies><inbound/>\n<inbound/></policies>", 2, "inbound", "twice"},
		{"unknown section", `<policies><inbund/></policies>`, 1, "inbund", "not a policy section"},
		{"wrong root", `<fragment><base/></fragment>`, 1, "fragment", "<policies> or <inbound>"},
		{"text in a section", "<inbound>\n  hello <base/></inbound>", 1, "inbound", "unexpected text"},
		{"namespace prefix", `<inbound xmlns:x="urn:x"><x:validate-jwt/></inbound>`, 1, "validate-jwt", "namespace"},
		{"default namespace", `<inbound xmlns="urn:x"/>`, 1, "inbound", "namespace"},
		{"namespaced attribute", `<inbound><ip-filter xmlns:x="urn:x" action="allow"><address>1.2.3.4</address></ip-filter></inbound>`, 1, "ip-filter", "xmlns"},
		{"base with children", "<inbound><base>\n<set-header name=\"a\"/></base></inbound>", 2, "set-header", "not expected inside <base>"},
		{"malformed", "<policies>\n<inbound>\n<base>\n</inbound>\n</policies>", 4, "xml", "not well-formed"},
		{"unclosed", "<policies>\n<inbound>", 2, "xml", "not well-formed"},
		{"empty", "  \n", 1, "xml", "empty"},
		{"two roots", "<inbound/>\n<inbound/>", 2, "inbound", "one root"},
		{"text after root", "<inbound/>\nhello", 1, "xml", "text outside"},
		{"undefined entity", "<inbound>\n<ip-filter action=\"allow\"><address>&ip;</address></ip-filter></inbound>", 2, "xml", "not well-formed"},
		{"not UTF-8", `<?xml version="1.0" encoding="utf-16"?><inbound/>`, 1, "xml", "cannot be read"},
		{"DOCTYPE with an external entity", "<?xml version=\"1.0\"?>\n<!DOCTYPE inbound [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<inbound><ip-filter action=\"allow\"><address>&xxe;</address></ip-filter></inbound>", 2, "xml", "DOCTYPE"},
		{"DOCTYPE with an internal entity", "<!DOCTYPE inbound [<!ENTITY a \"1.2.3.4\">]><inbound/>", 1, "xml", "DOCTYPE"},
		{"too deep", strings.Repeat("<inbound>", 40) + strings.Repeat("</inbound>", 40), 1, "inbound", "nested more than"},
		{"too big", "<inbound>" + strings.Repeat(" ", policyxml.MaxSize) + "</inbound>", 1, "policies", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problems(t, tt.doc)
			p := ps[0]
			if p.Line != tt.line || p.Element != tt.element || !strings.Contains(p.Message, tt.message) {
				t.Fatalf("first problem %q, want line %d: %s: ...%s...\nall:\n%v", p.String(), tt.line, tt.element, tt.message, &policyxml.Error{Problems: ps})
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	e := &policyxml.Error{Problems: []policyxml.Problem{
		{Line: 3, Element: "set-header", Message: "the policy is not supported by Portico."},
		{Line: 9, Element: "validate-jwt", Message: "attribute token-value is not supported."},
	}}
	want := "line 3: set-header: the policy is not supported by Portico.\nline 9: validate-jwt: attribute token-value is not supported."
	if got := e.Error(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestConvertNeverEchoesSecrets(t *testing.T) {
	doc := `<inbound><authentication-basic username="a:b" password="hunter2-secret"/></inbound>`
	_, err := policyxml.Convert([]byte(doc))
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("error %v", err)
	}
}

func FuzzConvert(f *testing.F) {
	seeds := []string{
		`<policies><inbound><base/><validate-jwt header-name="Authorization"><openid-config url="https://a.example/x"/><audiences><audience>a</audience></audiences><required-claims><claim name="r" match="any"><value>x</value></claim></required-claims></validate-jwt></inbound><backend><forward-request/></backend></policies>`,
		`<inbound><ip-filter action="allow"><address>1.2.3.4</address><address-range from="::1" to="::2"/></ip-filter></inbound>`,
		`<inbound><validate-client-certificate validate-revocation="false"><identities><identity subject="CN=a, O=&quot;b, c&quot;"/></identities></validate-client-certificate></inbound>`,
		`<inbound><rate-limit calls="1" renewal-period="1"/><authentication-basic username="a" password="b"/></inbound>`,
		`<inbound><validate-jwt><issuer-signing-keys><key n="AQAB" e="AQAB" id="x"/><key>AAAA</key></issuer-signing-keys></validate-jwt></inbound>`,
		`<inbound><authentication-certificate body="MIIB" password="x"/></inbound>`,
		`<!DOCTYPE a><a/>`,
		`<a><b></a>`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := policyxml.Convert(data)
		if (res == nil) == (err == nil) {
			t.Fatalf("result %v and error %v", res, err)
		}
		if err != nil {
			var perr *policyxml.Error
			if !errors.As(err, &perr) || len(perr.Problems) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			for _, p := range perr.Problems {
				if p.Line < 1 || p.Element == "" || p.Message == "" {
					t.Fatalf("incomplete problem %+v", p)
				}
			}
			return
		}
		// What converts is valid, once the config file gives the CA
		// certificates that validate-trust needs.
		if cc := res.Policies.ClientCertificate; cc != nil {
			cc.CACertificates = []string{"ca"}
		}
		if err := res.Policies.Validate(); err != nil {
			t.Fatalf("converted policies do not validate: %v", err)
		}
		if err := res.BackendAuth.Validate(); err != nil {
			t.Fatalf("converted backend auth does not validate: %v", err)
		}
	})
}
