package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/porticoapi/portico/mail"
)

// Settings are the process-wide options of CONTRACT section 1: a flag, an
// environment variable and a default for each.
type Settings struct {
	DB             string
	PortalAddr     string
	GatewayAddr    string
	PublicURL      string
	GatewayURL     string
	ConfigFile     string
	SecretFile     string
	Secret         string // PORTICO_SECRET only; never a flag, so it stays out of ps output
	SMTPURL        string
	MailFrom       string
	GatewayTLSCert string
	GatewayTLSKey  string
	TrustedProxies string
	LogFormat      string
	Demo           bool

	// Parsed by Validate.
	trustedProxies []netip.Prefix
	gatewayCert    *tls.Certificate
}

// setting describes one option for both its flag and its variable.
type setting struct {
	flag, env, def, usage string
	str                   *string
	boolean               *bool
}

func (s *Settings) table() []setting {
	return []setting{
		{"db", "PORTICO_DB", "data/portico.db", "SQLite file path", &s.DB, nil},
		{"portal-addr", "PORTICO_PORTAL_ADDR", "127.0.0.1:8080", "portal listener `host:port`", &s.PortalAddr, nil},
		{"gateway-addr", "PORTICO_GATEWAY_ADDR", "127.0.0.1:8081", "gateway listener `host:port`", &s.GatewayAddr, nil},
		{"public-url", "PORTICO_PUBLIC_URL", "http://localhost:8080", "the portal's external `URL`", &s.PublicURL, nil},
		{"gateway-url", "PORTICO_GATEWAY_URL", "http://localhost:8081", "the gateway's external `URL`", &s.GatewayURL, nil},
		{"config", "PORTICO_CONFIG", "", "config `file` applied at start, as portico apply does", &s.ConfigFile, nil},
		{"secret-file", "PORTICO_SECRET_FILE", "data/secret.key", "`file` of 32+ random bytes (created if missing); PORTICO_SECRET overrides it", &s.SecretFile, nil},
		{"smtp-url", "PORTICO_SMTP_URL", "", "smtp://user:pass@host:port or smtps://...", &s.SMTPURL, nil},
		{"mail-from", "PORTICO_MAIL_FROM", "portico@localhost", "sender `address`", &s.MailFrom, nil},
		{"gateway-tls-cert", "PORTICO_GATEWAY_TLS_CERT", "", "PEM certificate `file`: serve the gateway over TLS", &s.GatewayTLSCert, nil},
		{"gateway-tls-key", "PORTICO_GATEWAY_TLS_KEY", "", "PEM private key `file` for --gateway-tls-cert", &s.GatewayTLSKey, nil},
		{"trusted-proxies", "PORTICO_TRUSTED_PROXIES", "", "comma-separated `CIDRs` whose X-Forwarded-For is believed", &s.TrustedProxies, nil},
		{"log-format", "PORTICO_LOG_FORMAT", "text", "text or json", &s.LogFormat, nil},
		{"demo", "PORTICO_DEMO", "", "on an empty store, load the demo content", nil, &s.Demo},
	}
}

// settingsError is a bad setting: main prints it on one line and exits 2.
type settingsError struct{ msg string }

func (e *settingsError) Error() string { return e.msg }

func badSetting(flagName, env, format string, args ...any) error {
	return &settingsError{fmt.Sprintf("invalid setting --%s (%s): %s", flagName, env, fmt.Sprintf(format, args...))}
}

// registerSettings adds the settings' flags to fs, with defaults taken from
// the environment so that a flag beats its variable, which beats the
// built-in default.
func (s *Settings) registerFlags(fs *flag.FlagSet, getenv func(string) string) error {
	for _, st := range s.table() {
		v := getenv(st.env)
		usage := st.usage + " (env " + st.env + ")"
		if st.boolean != nil {
			def := false
			if v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return badSetting(st.flag, st.env, "%q is not true or false", v)
				}
				def = b
			}
			fs.BoolVar(st.boolean, st.flag, def, usage)
			continue
		}
		if v == "" {
			v = st.def
		}
		fs.StringVar(st.str, st.flag, v, usage)
	}
	s.Secret = getenv("PORTICO_SECRET")
	return nil
}

// Validate checks every setting and parses the ones that need it. The
// error names the first bad setting.
func (s *Settings) Validate() error {
	if s.DB == "" {
		return badSetting("db", "PORTICO_DB", "must not be empty")
	}
	if strings.HasPrefix(s.DB, "postgres://") || strings.HasPrefix(s.DB, "postgresql://") {
		return badSetting("db", "PORTICO_DB", "PostgreSQL is not supported by this build yet; give a SQLite file path")
	}
	for _, a := range []struct{ flag, env, v string }{
		{"portal-addr", "PORTICO_PORTAL_ADDR", s.PortalAddr},
		{"gateway-addr", "PORTICO_GATEWAY_ADDR", s.GatewayAddr},
	} {
		if _, port, err := net.SplitHostPort(a.v); err != nil {
			return badSetting(a.flag, a.env, "%q is not host:port", a.v)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return badSetting(a.flag, a.env, "%q has no valid port", a.v)
		}
	}
	for _, u := range []struct {
		flag, env string
		v         *string
	}{
		{"public-url", "PORTICO_PUBLIC_URL", &s.PublicURL},
		{"gateway-url", "PORTICO_GATEWAY_URL", &s.GatewayURL},
	} {
		p, err := url.Parse(*u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
			return badSetting(u.flag, u.env, "%q must be an absolute http or https URL without query, fragment or credentials", *u.v)
		}
		*u.v = strings.TrimRight(*u.v, "/")
	}
	if s.ConfigFile != "" {
		if _, err := os.Stat(s.ConfigFile); err != nil {
			return badSetting("config", "PORTICO_CONFIG", "cannot read %s", s.ConfigFile)
		}
	}
	if s.Secret == "" && s.SecretFile == "" {
		return badSetting("secret-file", "PORTICO_SECRET_FILE", "must not be empty unless PORTICO_SECRET is set")
	}
	if s.SMTPURL != "" {
		if _, err := mail.ParseSMTPURL(s.SMTPURL); err != nil {
			return badSetting("smtp-url", "PORTICO_SMTP_URL", "%v (want smtp://[user:pass@]host[:port] or smtps://...)", err)
		}
	}
	if a, err := mailAddress(s.MailFrom); err != nil {
		return badSetting("mail-from", "PORTICO_MAIL_FROM", "%q is not an email address", s.MailFrom)
	} else {
		s.MailFrom = a
	}
	if (s.GatewayTLSCert == "") != (s.GatewayTLSKey == "") {
		return badSetting("gateway-tls-cert", "PORTICO_GATEWAY_TLS_CERT", "--gateway-tls-cert and --gateway-tls-key must be given together")
	}
	if s.GatewayTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.GatewayTLSCert, s.GatewayTLSKey)
		if err != nil {
			return badSetting("gateway-tls-cert", "PORTICO_GATEWAY_TLS_CERT", "cannot load the key pair: %v", err)
		}
		s.gatewayCert = &cert
	}
	s.trustedProxies = nil
	for _, c := range strings.Split(s.TrustedProxies, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return badSetting("trusted-proxies", "PORTICO_TRUSTED_PROXIES", "%q is not an address or CIDR", c)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		s.trustedProxies = append(s.trustedProxies, p.Masked())
	}
	switch s.LogFormat {
	case "text", "json":
	default:
		return badSetting("log-format", "PORTICO_LOG_FORMAT", "%q must be text or json", s.LogFormat)
	}
	return nil
}
