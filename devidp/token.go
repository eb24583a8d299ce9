package devidp

import (
	"crypto/subtle"
	"net/http"
	"net/url"
)

// client is a registered OAuth client.
type client struct {
	secret   string
	audience string
}

// AddClient registers (or replaces) a confidential client. Tokens it gets
// from /token carry audience as their aud claim.
func (p *Provider) AddClient(id, secret, audience string) {
	p.mu.Lock()
	p.clients[id] = client{secret: secret, audience: audience}
	p.mu.Unlock()
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// handleToken is the token endpoint (RFC 6749 section 3.2).
func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not a form.")
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "client_credentials":
		p.clientCredentials(w, r)
	case "authorization_code":
		p.authorizationCode(w, r)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required.")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Only authorization_code and client_credentials are supported.")
	}
}

func (p *Provider) clientCredentials(w http.ResponseWriter, r *http.Request) {
	id, c, basic, ok := p.authenticateClient(r)
	if !ok {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
		}
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	now := p.now()
	claims := map[string]any{
		"iss":   p.issuer,
		"sub":   id,
		"aud":   c.audience,
		"azp":   id,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(p.ttl).Unix(),
		"jti":   randomID(),
		"scope": r.PostForm.Get("scope"),
	}
	if claims["scope"] == "" {
		delete(claims, "scope")
	}
	tok, err := p.mint(claims, mintOptions{alg: RS256})
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "The token could not be signed.")
		return
	}
	p.tokensIssued.Add(1)
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int64(p.ttl.Seconds()),
		Scope:       r.PostForm.Get("scope"),
	})
}

// authenticateClient accepts client_secret_basic (the id and secret
// form-urlencoded, RFC 6749 section 2.3.1) and client_secret_post, but not
// both at once. basic reports whether the client tried Basic.
func (p *Provider) authenticateClient(r *http.Request) (id string, c client, basic, ok bool) {
	var secret string
	if u, pw, has := r.BasicAuth(); has {
		basic = true
		if r.PostForm.Has("client_secret") {
			return "", client{}, basic, false
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(pw)
		if err1 != nil || err2 != nil {
			return "", client{}, basic, false
		}
	} else if r.Header.Get("Authorization") != "" {
		// Some other scheme: refuse rather than fall back to the form.
		return "", client{}, false, false
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	c, known := p.clients[id]
	p.mu.Unlock()
	if !known || id == "" {
		return "", client{}, basic, false
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1 {
		return "", client{}, basic, false
	}
	return id, c, basic, true
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
