// Package policyxml converts Azure API Management policy XML (an API's
// <policies> document, or a bare <inbound> fragment) into Portico's domain
// policies, portal.Policies and *portal.BackendAuth, so that users
// migrating from APIM can give an API's policies as they have them
// (policies_xml in the config file, or pasted in /admin).
//
// Convert either returns every policy of the document or none: anything it
// cannot convert faithfully is reported in an *Error as "line N: element:
// message", by the line of the element's start tag, and nothing is dropped
// silently. What is converted, from <inbound>:
//
//   - validate-jwt: header-name, query-parameter-name, require-scheme,
//     failed-validation-httpcode, failed-validation-error-message,
//     require-expiration-time, require-signed-tokens, clock-skew (seconds),
//     openid-config (several), issuer-signing-keys/key (a base64 symmetric
//     key, kept as base64 or, with id=, as an "oct" JWK; n= and e= as an RSA
//     JWK), audiences, issuers, required-claims/claim (name, match,
//     separator, value). APIM's defaults; the result is Normalized and
//     Validated. token-value, decryption-keys and key certificate-id are
//     reported. output-token-variable-name is a note, not a problem: only
//     policy expressions read that variable, and every expression is
//     reported.
//   - ip-filter: action, address (an address, or a CIDR as Portico allows),
//     address-range from/to.
//   - validate-client-certificate: validate-trust, validate-not-before,
//     validate-not-after, identities/identity (thumbprint, serial-number,
//     common-name, subject, dns-name, issuer-subject, issuer-thumbprint;
//     thumbprints and serials cleaned to upper-case hex, subjects rewritten
//     from .NET's "CN=a, O=b" to RFC 4514's "CN=a,O=b"). The CA
//     certificates for validate-trust are not in the XML: they come from the
//     config file's client_certificate.ca_files, so the converted policy has
//     none, a note says so, and the caller adds them before Validate.
//     validate-revocation (true by default in APIM: Portico checks no
//     revocation lists, so it must be given as false), ignore-error="true"
//     and issuer-certificate-id are reported.
//   - rate-limit: calls per renewal-period (seconds) per subscription.
//     Nested api/operation limits and the header/variable attributes are
//     reported.
//   - authentication-basic -> BackendAuth.Basic; authentication-certificate
//     body= (base64 PKCS#12, legacy 3DES/RC2 encryption as APIM and Windows
//     export it) with password= -> BackendAuth.Certificate (chain leaf
//     first, PKCS #8 key). thumbprint= and certificate-id= name
//     certificates uploaded to APIM and are reported, pointing to
//     backend.auth.certificate cert_file/key_file;
//     authentication-managed-identity is reported, pointing to
//     backend.auth.oauth_client_credentials. At most one of them.
//
// <base/> is accepted and ignored anywhere (Portico has no outer scopes).
// <backend> may hold <forward-request/>, which is what Portico always does;
// its timeout= is not applied but returned as a note (the backend timeout
// is the config file's backend.timeout), follow-redirects="false" is
// accepted, any other attribute is reported. Anything but <base/> in
// <outbound> or <on-error>, any other element anywhere (set-header, cors,
// choose, ...), a second use of a policy, any policy expression (a value
// starting with @( or @{) and any named value ({{name}}) are reported.
// Portico runs the checks in its own order (CONTRACT section 5), whatever
// their order in the document.
//
// Input is limited to MaxSize bytes and MaxDepth levels, must be
// well-formed UTF-8 XML, and may hold no DOCTYPE: encoding/xml expands no
// external entities and knows only XML's five predefined ones, and a
// document with a DOCTYPE is refused before any entity could be used.
// Problems and notes never hold a password or a certificate body.
//
// It imports only the standard library, portal and
// golang.org/x/crypto/pkcs12. It must not import the gateway, the config file, web or any
// store: it is a pure conversion of bytes to portal values.
package policyxml
