package devidp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Paths of the interactive endpoints.
const (
	UserInfoPath = "/userinfo"
)

// codeTTL is how long an authorization code may wait for its exchange.
const codeTTL = 2 * time.Minute

// User is a named test user, chosen on the login page.
type User struct {
	Subject string // the sub claim; required
	Email   string
	Name    string
	// TenantID and ObjectID are the tid and oid claims in Entra mode
	// (Config.EntraIssuerBase); the issuer then names TenantID.
	TenantID string
	ObjectID string
	// EmailUnverified leaves email_verified out of the user's ID tokens
	// and userinfo: the provider does not vouch for the address. Outside
	// Entra mode they carry email_verified true otherwise; in Entra mode
	// never, as Entra sends no email_verified.
	EmailUnverified bool
	// DomainVerified adds Entra's optional claim xms_edov true: the
	// address's domain is verified by the tenant that owns it.
	DomainVerified bool
}

// AddUser adds (or replaces, by Subject) a test user. The login page lists
// users in the order they were first added.
func (p *Provider) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, old := range p.users {
		if old.Subject == u.Subject {
			p.users[i] = u
			return
		}
	}
	p.users = append(p.users, u)
}

// SetRedirectURIs registers the redirect URIs of a client. A client with
// none accepts any http or https redirect URI, which is convenient for
// development; one with some accepts only those, exactly.
func (p *Provider) SetRedirectURIs(clientID string, uris ...string) {
	p.mu.Lock()
	p.redirects[clientID] = uris
	p.mu.Unlock()
}

// Misbehaviour makes the ID tokens (and userinfo) of the authorization
// code grant wrong in one way, so that relying parties can show they
// refuse them.
type Misbehaviour int

const (
	Behave                  Misbehaviour = iota
	WrongIssuer                          // iss is another provider's
	WrongAudience                        // aud is another client
	ExtraAudience                        // aud is the client and an untrusted other
	WrongAuthorizedParty                 // azp names another client
	BadSignature                         // signed with an unpublished key under the published kid
	AlgNone                              // unsigned, alg none
	HMACSigned                           // HS256 with the client secret
	Expired                              // exp in the past
	MissingSubject                       // no sub
	MissingIssuedAt                      // no iat
	MissingExpiry                        // no exp
	WrongNonce                           // nonce is not the one asked for
	MissingNonce                         // no nonce although one was asked for
	UserInfoSubjectMismatch              // userinfo's sub differs from the ID token's
	TenantMismatch                       // Entra mode: the issuer names another tenant than tid
	FutureIssuedAt                       // iat an hour from now
	MissingTenantID                      // Entra mode: no tid
	MissingObjectID                      // Entra mode: no oid
	// HMACClientSecret signs HS256 with exactly the client's secret (no
	// kid) and makes discovery advertise HS256 and none beside the real
	// algorithms, as a provider that allows symmetric ID tokens would.
	HMACClientSecret
	// HMACPublishedKey publishes a symmetric (oct) key in the JWKS and
	// signs HS256 with it, under its kid.
	HMACPublishedKey
)

// octKeyID is the kid of the symmetric key HMACPublishedKey publishes.
const octKeyID = "devidp-oct"

// SetMisbehaviour makes later ID tokens misbehave as m; Behave restores
// correct tokens.
func (p *Provider) SetMisbehaviour(m Misbehaviour) {
	p.mu.Lock()
	p.misbehaviour = m
	p.mu.Unlock()
}

// authRequest is a checked authorization request.
type authRequest struct {
	clientID, redirectURI, scope, state, nonce, challenge string
}

// grant is an issued authorization code's request and chosen user.
type grant struct {
	authRequest
	user    User
	expires time.Time
}

// accessGrant is what an access token from the code grant stands for.
type accessGrant struct {
	user    User
	expires time.Time
}

// checkAuthRequest validates the parameters of an authorization request
// (from the query of GET or the form of POST). redirect is the URI errors
// may be sent to, "" when not even that is trustworthy.
func (p *Provider) checkAuthRequest(v url.Values) (ar authRequest, redirect string, code, desc string) {
	ar = authRequest{
		clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"), scope: v.Get("scope"),
		state: v.Get("state"), nonce: v.Get("nonce"), challenge: v.Get("code_challenge"),
	}
	p.mu.Lock()
	_, known := p.clients[ar.clientID]
	allowed := p.redirects[ar.clientID]
	p.mu.Unlock()
	if !known {
		return ar, "", "invalid_client", "Unknown client_id."
	}
	u, err := url.Parse(ar.redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return ar, "", "invalid_request", "redirect_uri must be an absolute http or https URL."
	}
	if len(allowed) > 0 && !slices.Contains(allowed, ar.redirectURI) {
		return ar, "", "invalid_request", "redirect_uri is not registered for this client."
	}
	switch {
	case v.Get("response_type") != "code":
		return ar, ar.redirectURI, "unsupported_response_type", "Only response_type=code is supported."
	case !slices.Contains(strings.Fields(ar.scope), "openid"):
		return ar, ar.redirectURI, "invalid_scope", "scope must include openid."
	case ar.challenge == "":
		return ar, ar.redirectURI, "invalid_request", "PKCE is required: code_challenge is missing."
	case v.Get("code_challenge_method") != "S256":
		return ar, ar.redirectURI, "invalid_request", "code_challenge_method must be S256."
	case len(ar.challenge) != 43:
		return ar, ar.redirectURI, "invalid_request", "code_challenge must be a base64url SHA-256."
	}
	return ar, ar.redirectURI, "", ""
}

// redirectError sends an OAuth error back to the client (RFC 6749 section
// 4.1.2.1), or shows it when there is nowhere safe to send it.
func redirectError(w http.ResponseWriter, r *http.Request, redirect, state, code, desc string) {
	if redirect == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(code + ": " + desc + "\n"))
		return
	}
	q := url.Values{"error": {code}, "error_description": {desc}}
	if state != "" {
		q.Set("state", state)
	}
	http.Redirect(w, r, addQuery(redirect, q), http.StatusFound)
}

func addQuery(u string, q url.Values) string {
	if strings.Contains(u, "?") {
		return u + "&" + q.Encode()
	}
	return u + "?" + q.Encode()
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>devidp: sign in</title></head>
<body><main>
<h1>Development identity provider</h1>
<p>Choose a test user to sign in to <strong>{{.ClientID}}</strong>. There is no password.</p>
<form method="post" action="{{.Action}}" data-testid="devidp-login">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<fieldset><legend>Test users</legend>
{{range .Users}}<p><label><input type="radio" name="user" value="{{.Subject}}"{{if .Checked}} checked{{end}} required> {{.Name}} &lt;{{.Email}}&gt;</label></p>
{{else}}<p>No test users are configured.</p>
{{end}}</fieldset>
<p><button type="submit" data-testid="devidp-submit">Sign in</button></p>
</form>
</main></body></html>
`))

type loginUser struct {
	User
	Checked bool
}

// handleAuthorize shows the login page: a form listing the test users,
// carrying the checked request along.
func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ar, redirect, code, desc := p.checkAuthRequest(q)
	if code != "" {
		redirectError(w, r, redirect, q.Get("state"), code, desc)
		return
	}
	hint := q.Get("login_hint")
	p.mu.Lock()
	users := make([]loginUser, len(p.users))
	for i, u := range p.users {
		users[i] = loginUser{User: u, Checked: hint != "" && (u.Subject == hint || strings.EqualFold(u.Email, hint))}
	}
	p.mu.Unlock()
	if len(users) == 1 {
		users[0].Checked = true
	}
	hidden := map[string]string{
		"client_id": ar.clientID, "redirect_uri": ar.redirectURI, "scope": ar.scope, "state": ar.state,
		"nonce": ar.nonce, "code_challenge": ar.challenge, "code_challenge_method": "S256", "response_type": "code",
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	loginPage.Execute(w, map[string]any{"ClientID": ar.clientID, "Action": p.issuer + AuthorizationPath, "Hidden": hidden, "Users": users})
}

// handleLogin takes the login form: it issues a code for the chosen user
// and sends the browser back to the client with it and the state.
func (p *Provider) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		redirectError(w, r, "", "", "invalid_request", "The login form could not be read.")
		return
	}
	ar, redirect, code, desc := p.checkAuthRequest(r.PostForm)
	if code != "" {
		redirectError(w, r, redirect, r.PostForm.Get("state"), code, desc)
		return
	}
	sub := r.PostForm.Get("user")
	p.mu.Lock()
	var user *User
	for i := range p.users {
		if p.users[i].Subject == sub {
			u := p.users[i]
			user = &u
		}
	}
	if user == nil {
		p.mu.Unlock()
		redirectError(w, r, redirect, ar.state, "access_denied", "No such test user.")
		return
	}
	c := randomToken()
	p.codes[c] = grant{authRequest: ar, user: *user, expires: p.now().Add(codeTTL)}
	p.mu.Unlock()
	q := url.Values{"code": {c}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	http.Redirect(w, r, addQuery(ar.redirectURI, q), http.StatusFound)
}

// authorizationCode is the authorization_code grant (RFC 6749 section
// 4.1.3) with PKCE (RFC 7636): the code is single-use, bound to the client
// and redirect URI, and needs the verifier of its S256 challenge.
func (p *Provider) authorizationCode(w http.ResponseWriter, r *http.Request) {
	id, c, basic, ok := p.authenticateClient(r)
	if !ok {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, found := p.codes[code]
	delete(p.codes, code) // single use, whatever happens next
	m := p.misbehaviour
	p.mu.Unlock()
	now := p.now()
	switch {
	case !found || now.After(g.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The code is unknown, used or expired.")
		return
	case g.clientID != id:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The code was issued to another client.")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request's.")
		return
	}
	verifier := r.PostForm.Get("code_verifier")
	if verifier == "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE is required: code_verifier is missing.")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge.")
		return
	}
	idToken, err := p.idToken(g, id, c, m)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "The ID token could not be signed.")
		return
	}
	access := randomToken()
	p.mu.Lock()
	p.access[access] = accessGrant{user: g.user, expires: now.Add(p.ttl)}
	p.mu.Unlock()
	p.tokensIssued.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int64(p.ttl.Seconds()),
		"scope":        g.scope,
		"id_token":     idToken,
	})
}

// tokenIssuer is the iss of u's ID tokens: the provider's own, or in
// Entra mode the tenant's.
func (p *Provider) tokenIssuer(u User) string {
	if p.entraBase != "" {
		return p.entraBase + "/" + u.TenantID + "/v2.0"
	}
	return p.issuer
}

// idToken signs the ID token of g for client id, misbehaving as m.
func (p *Provider) idToken(g grant, id string, c client, m Misbehaviour) (string, error) {
	now := p.now()
	claims := map[string]any{
		"iss":   p.tokenIssuer(g.user),
		"aud":   id,
		"sub":   g.user.Subject,
		"iat":   now.Unix(),
		"exp":   now.Add(p.ttl).Unix(),
		"email": g.user.Email,
		"name":  g.user.Name,
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	for k, v := range emailClaims(g.user, p.entraBase != "") {
		claims[k] = v
	}
	if p.entraBase != "" {
		claims["tid"], claims["oid"] = g.user.TenantID, g.user.ObjectID
	}
	o := mintOptions{alg: RS256}
	switch m {
	case WrongIssuer:
		claims["iss"] = "https://evil.example.com"
	case WrongAudience:
		claims["aud"] = "another-client"
	case ExtraAudience:
		claims["aud"] = []string{id, "untrusted-client"}
	case WrongAuthorizedParty:
		claims["azp"] = "another-client"
	case BadSignature:
		o.unpublished = true
	case AlgNone:
		o.none = "none"
	case HMACSigned:
		o.hmacAlg, o.hmacKey = "HS256", []byte(c.secret+strings.Repeat("0", 32))
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case MissingSubject:
		delete(claims, "sub")
	case MissingIssuedAt:
		delete(claims, "iat")
	case MissingExpiry:
		delete(claims, "exp")
	case WrongNonce:
		claims["nonce"] = "not-the-nonce-" + randomID()
	case MissingNonce:
		delete(claims, "nonce")
	case TenantMismatch:
		claims["tid"] = "00000000-0000-0000-0000-00000000dead"
	case FutureIssuedAt:
		claims["iat"] = now.Add(time.Hour).Unix()
	case MissingTenantID:
		delete(claims, "tid")
	case MissingObjectID:
		delete(claims, "oid")
	case HMACClientSecret:
		// By hand: go-jose refuses HMAC keys shorter than the hash, and
		// client secrets often are.
		return hs256(claims, []byte(c.secret), "")
	case HMACPublishedKey:
		return hs256(claims, p.octKey, octKeyID)
	}
	return p.mint(claims, o)
}

// emailClaims are the claims about u's address: email_verified (outside
// Entra mode, unless EmailUnverified) and xms_edov (DomainVerified).
func emailClaims(u User, entra bool) map[string]any {
	c := map[string]any{}
	if !entra && !u.EmailUnverified {
		c["email_verified"] = true
	}
	if u.DomainVerified {
		c["xms_edov"] = true
	}
	return c
}

// hs256 signs claims as a JWT with HMAC SHA-256 and key.
func hs256(claims map[string]any, key []byte, kid string) (string, error) {
	h := map[string]any{"alg": "HS256", "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	pb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(hb) + "." + enc.EncodeToString(pb)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// handleUserInfo answers with the claims of the user an access token from
// the code grant stands for (OpenID Connect Core section 5.3).
func (p *Provider) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	p.mu.Lock()
	g, ok := p.access[tok]
	m := p.misbehaviour
	p.mu.Unlock()
	if !strings.EqualFold(scheme, "Bearer") || !ok || p.now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "The access token is missing, unknown or expired.")
		return
	}
	claims := map[string]any{"sub": g.user.Subject, "email": g.user.Email, "name": g.user.Name}
	for k, v := range emailClaims(g.user, p.entraBase != "") {
		claims[k] = v
	}
	if p.entraBase != "" {
		claims["tid"], claims["oid"] = g.user.TenantID, g.user.ObjectID
	}
	if m == UserInfoSubjectMismatch {
		claims["sub"] = "someone-else"
	}
	writeJSON(w, http.StatusOK, claims)
}

// ConsumersTenantID is the tenant of personal Microsoft accounts: Entra's
// discovery for the consumers tenant names its issuer, not the {tenantid}
// template, since every token it issues carries this tid.
const ConsumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// handleTenantDiscovery serves Entra-style discovery at
// /{tenant}/v2.0/.well-known/openid-configuration in Entra mode: for
// organizations and common the issuer is the template with {tenantid},
// for consumers that of ConsumersTenantID, otherwise the tenant's own.
func (p *Provider) handleTenantDiscovery(w http.ResponseWriter, r *http.Request) {
	if p.entraBase == "" {
		http.NotFound(w, r)
		return
	}
	tenant := r.PathValue("tenant")
	iss := p.entraBase + "/" + tenant + "/v2.0"
	switch strings.ToLower(tenant) {
	case "organizations", "common":
		iss = p.entraBase + "/{tenantid}/v2.0"
	case "consumers":
		iss = p.entraBase + "/" + ConsumersTenantID + "/v2.0"
	}
	p.serveDiscovery(w, iss)
}

func randomToken() string {
	b := make([]byte, 32)
	randRead(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
