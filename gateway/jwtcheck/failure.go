package jwtcheck

import (
	"fmt"
	"strings"
)

// Reason codes of a Failure: stable, for metrics and logs.
const (
	ReasonMissing             = "jwt_missing"
	ReasonScheme              = "jwt_scheme"
	ReasonTooLarge            = "jwt_too_large"
	ReasonMalformed           = "jwt_malformed"
	ReasonUnsigned            = "jwt_unsigned"
	ReasonAlgorithm           = "jwt_algorithm"
	ReasonHeader              = "jwt_header"
	ReasonSignature           = "jwt_signature"
	ReasonKeyNotFound         = "jwt_key_not_found"
	ReasonIssuer              = "jwt_issuer"
	ReasonAudience            = "jwt_audience"
	ReasonExpired             = "jwt_expired"
	ReasonNotYetValid         = "jwt_not_yet_valid"
	ReasonNoExpiration        = "jwt_no_expiration"
	ReasonClaimMissing        = "jwt_claim_missing"
	ReasonClaimValue          = "jwt_claim_value"
	ReasonProviderUnavailable = "jwt_provider_unavailable"
	ReasonConfig              = "jwt_config"
)

// messages are APIM's wordings of the reasons, sent to callers when the
// policy has no failed_message of its own.
var messages = map[string]string{
	ReasonMissing:             "JWT not present.",
	ReasonScheme:              "JWT not present.",
	ReasonTooLarge:            "JWT is too large.",
	ReasonMalformed:           "JWT is malformed.",
	ReasonUnsigned:            "JWT is not signed.",
	ReasonAlgorithm:           "JWT signing algorithm not allowed.",
	ReasonHeader:              "JWT header not supported.",
	ReasonSignature:           "JWT signature validation failed.",
	ReasonKeyNotFound:         "Signing key not found.",
	ReasonIssuer:              "Issuer validation failed.",
	ReasonAudience:            "Audience validation failed.",
	ReasonExpired:             "JWT expired.",
	ReasonNotYetValid:         "JWT not yet valid.",
	ReasonNoExpiration:        "JWT expiration time not present.",
	ReasonClaimMissing:        "Claim not present.",
	ReasonClaimValue:          "Claim value not allowed.",
	ReasonProviderUnavailable: "Signing keys unavailable.",
	ReasonConfig:              "JWT validation is not configured correctly.",
}

// Failure is why a token was refused.
type Failure struct {
	Reason  string // one of the Reason constants
	Message string // APIM's message for Reason
	// Detail is a safe explanation for logs and the denials record
	// ("aud \"api://orders\" not in [api://echo]"). It never holds the
	// token, a signature or a key.
	Detail string
}

func (f *Failure) Error() string { return f.Reason + ": " + f.Detail }

func fail(reason, format string, args ...any) *Failure {
	return &Failure{Reason: reason, Message: messages[reason], Detail: fmt.Sprintf(format, args...)}
}

// Reasons returns every reason code with its message, so that callers can
// prepare their answers ahead of time.
func Reasons() map[string]string {
	out := make(map[string]string, len(messages))
	for k, v := range messages {
		out[k] = v
	}
	return out
}

// FromHeader returns the token in an Authorization-style header value.
// With a scheme ("Bearer"), the value must be the scheme (compared without
// case), one or more spaces, and the token. Without one, a "Bearer "
// prefix is taken off when present, as APIM does, since clients send
// bearer tokens that way whether or not the policy requires the scheme.
func FromHeader(value, scheme string) (string, *Failure) {
	value = strings.TrimSpace(value)
	if value == "" {
		return "", fail(ReasonMissing, "no token in the header")
	}
	if scheme == "" {
		if len(value) > 7 && strings.EqualFold(value[:7], "Bearer ") {
			if tok := strings.TrimLeft(value[7:], " "); tok != "" {
				return tok, nil
			}
		}
		return value, nil
	}
	if len(value) <= len(scheme) || !strings.EqualFold(value[:len(scheme)], scheme) || value[len(scheme)] != ' ' {
		return "", fail(ReasonScheme, "the header does not use the %s scheme", scheme)
	}
	tok := strings.TrimLeft(value[len(scheme):], " ")
	if tok == "" {
		return "", fail(ReasonMissing, "no token after the %s scheme", scheme)
	}
	return tok, nil
}

// quote shortens a value from a token for a Detail: quoted, at most 80
// bytes, so that a log line cannot be flooded or forged through a claim.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return fmt.Sprintf("%q", s)
}
