package policyxml

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
)

// validateJWT converts validate-jwt. Defaults are APIM's: the token in the
// Authorization header, require-expiration-time and require-signed-tokens
// true, clock-skew 0, failed status 401.
func (c *converter) validateJWT(n *node) {
	a := c.attrs(n, []string{
		"header-name", "query-parameter-name", "failed-validation-httpcode",
		"failed-validation-error-message", "require-expiration-time", "require-scheme",
		"require-signed-tokens", "clock-skew", "output-token-variable-name",
	}, map[string]string{
		"token-value": "Portico reads the token from header-name or query-parameter-name only.",
	})
	c.noText(n)
	before := len(c.problems)
	v := &portal.ValidateJWT{
		Header:                strings.TrimSpace(a["header-name"]),
		Query:                 strings.TrimSpace(a["query-parameter-name"]),
		RequireScheme:         strings.TrimSpace(a["require-scheme"]),
		FailedMessage:         a["failed-validation-error-message"],
		RequireExpirationTime: c.boolAttr(n, a, "require-expiration-time", true),
		RequireSignedTokens:   c.boolAttr(n, a, "require-signed-tokens", true),
	}
	if v.Header != "" && v.Query != "" {
		c.problem(n, "give header-name or query-parameter-name, not both.")
	}
	if s, ok := a["failed-validation-httpcode"]; ok {
		code, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || code < 400 || code > 599 {
			c.problem(n, "attribute failed-validation-httpcode must be an HTTP error status (400-599), not %q.", s)
		} else {
			v.FailedStatus = code
		}
	}
	if s, ok := a["clock-skew"]; ok {
		secs, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || secs < 0 || secs > 3600 {
			c.problem(n, "attribute clock-skew must be a number of seconds between 0 and 3600, not %q.", s)
		} else {
			v.ClockSkew = time.Duration(secs) * time.Second
		}
	}
	if s, ok := a["output-token-variable-name"]; ok {
		// Harmless: the variable is read only by policy expressions, and
		// any expression in the document is reported as unsupported.
		c.note(n, "output-token-variable-name %q is ignored: Portico keeps no policy variables.", s)
	}
	for _, ch := range n.children {
		switch ch.name {
		case "openid-config":
			ca := c.attrs(ch, []string{"url", "validate-connectivity"}, nil)
			c.noText(ch)
			c.noChildren(ch)
			url := strings.TrimSpace(ca["url"])
			if url == "" {
				if _, ok := ca["url"]; ok || !has(ch, "url") {
					c.problem(ch, "attribute url is required.")
				}
				continue
			}
			v.OpenIDConfig = append(v.OpenIDConfig, url)
		case "issuer-signing-keys":
			c.attrs(ch, nil, nil)
			c.noText(ch)
			for _, k := range ch.children {
				if k.name != "key" {
					c.problem(k, "not expected inside <issuer-signing-keys>.")
					continue
				}
				if key, ok := c.signingKey(k); ok {
					v.SigningKeys = append(v.SigningKeys, key)
				}
			}
		case "decryption-keys":
			c.problem(ch, "encrypted tokens (JWE) are not supported by Portico.")
		case "audiences", "issuers":
			c.attrs(ch, nil, nil)
			c.noText(ch)
			want := strings.TrimSuffix(ch.name, "s")
			for _, e := range ch.children {
				if e.name != want {
					c.problem(e, "not expected inside <%s>.", ch.name)
					continue
				}
				if s, ok := c.value(e); ok {
					if want == "audience" {
						v.Audiences = append(v.Audiences, s)
					} else {
						v.Issuers = append(v.Issuers, s)
					}
				}
			}
		case "required-claims":
			c.attrs(ch, nil, nil)
			c.noText(ch)
			for _, e := range ch.children {
				if e.name != "claim" {
					c.problem(e, "not expected inside <required-claims>.")
					continue
				}
				if rc, ok := c.claim(e); ok {
					v.RequiredClaims = append(v.RequiredClaims, rc)
				}
			}
		default:
			c.problem(ch, "not expected inside <validate-jwt>.")
		}
	}
	v.Normalize()
	// Validated only when its parts converted, so that a missing part is
	// reported once, where it is.
	if len(c.problems) > before {
		return
	}
	if err := v.Validate(); err != nil {
		c.problem(n, "%s", portal.ErrorMessage(err))
	}
	c.res.Policies.ValidateJWT = v
}

// claim converts <claim name= match= separator=><value>...</value></claim>.
func (c *converter) claim(n *node) (portal.RequiredClaim, bool) {
	a := c.attrs(n, []string{"name", "match", "separator"}, nil)
	c.noText(n)
	rc := portal.RequiredClaim{Name: strings.TrimSpace(a["name"]), Match: strings.TrimSpace(a["match"]), Separator: a["separator"]}
	ok := true
	if rc.Name == "" {
		c.problem(n, "attribute name is required.")
		ok = false
	}
	if rc.Match != "" && rc.Match != portal.ClaimMatchAll && rc.Match != portal.ClaimMatchAny {
		c.problem(n, "attribute match must be all or any, not %q.", rc.Match)
		ok = false
	}
	for _, e := range n.children {
		if e.name != "value" {
			c.problem(e, "not expected inside <claim>.")
			ok = false
			continue
		}
		s, vok := c.value(e)
		if !vok {
			ok = false
			continue
		}
		rc.Values = append(rc.Values, s)
	}
	return rc, ok
}

// jwk is the JSON Web Key form of a converted key; portal.ValidateJWT's
// SigningKeys accept JWKs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	K   string `json:"k,omitempty"`
}

// signingKey converts an issuer-signing-keys <key>: an RSA key given by
// n= and e= (base64url, as in a JWK) becomes an RSA JWK, and a base64
// symmetric key stays base64, or becomes an "oct" JWK when it has an id=
// so that its kid is kept.
func (c *converter) signingKey(n *node) (string, bool) {
	a := c.attrs(n, []string{"id", "n", "e"}, map[string]string{
		"certificate-id": "certificates uploaded to APIM cannot be read; put the certificate (PEM) in validate_jwt.signing_keys in the config file.",
	})
	c.noChildren(n)
	if has(n, "certificate-id") {
		return "", false
	}
	text := strings.TrimSpace(n.text)
	if has(n, "n") || has(n, "e") {
		_, okN := a["n"]
		_, okE := a["e"]
		if okN != has(n, "n") || okE != has(n, "e") {
			return "", false // already reported by attrs
		}
		if text != "" {
			c.problem(n, "a key has either n and e or a base64 value, not both.")
			return "", false
		}
		mod, err1 := decodeBase64(a["n"])
		exp, err2 := decodeBase64(a["e"])
		if err1 != nil || err2 != nil || len(mod) == 0 || len(exp) == 0 || len(exp) > 8 {
			c.problem(n, "an RSA key needs n and e, both base64url-encoded.")
			return "", false
		}
		// Re-encoded from the numbers so that leading zeros and padding
		// in the source do not matter.
		k := jwk{
			Kty: "RSA", Kid: strings.TrimSpace(a["id"]),
			N: base64.RawURLEncoding.EncodeToString(new(big.Int).SetBytes(mod).Bytes()),
			E: base64.RawURLEncoding.EncodeToString(new(big.Int).SetBytes(exp).Bytes()),
		}
		b, _ := json.Marshal(k)
		return string(b), true
	}
	if text == "" {
		c.problem(n, "a key needs a base64 value, or n and e.")
		return "", false
	}
	if !c.literal(n, "the key", text) {
		return "", false
	}
	raw, err := decodeBase64(text)
	if err != nil || len(raw) == 0 {
		c.problem(n, "the key is not base64.")
		return "", false
	}
	if id := strings.TrimSpace(a["id"]); id != "" {
		b, _ := json.Marshal(jwk{Kty: "oct", Kid: id, K: base64.RawURLEncoding.EncodeToString(raw)})
		return string(b), true
	}
	return base64.StdEncoding.EncodeToString(raw), true
}

// decodeBase64 accepts standard and URL alphabets, padded or not, and
// ignores whitespace (keys are often wrapped).
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

func (c *converter) boolAttr(n *node, a map[string]string, name string, def bool) bool {
	s, ok := a[name]
	if !ok {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true
	case "false":
		return false
	}
	c.problem(n, "attribute %s must be true or false, not %q.", name, s)
	return def
}

// has reports whether n has the attribute, whatever its value.
func has(n *node, name string) bool {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return true
		}
	}
	return false
}
