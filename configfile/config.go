package configfile

import (
	"net/http"
	"os"

	"github.com/porticoapi/portico/auth"
	"github.com/porticoapi/portico/portal"
)

// Config holds what the config file functions use. Zero fields take the
// defaults noted; only Plan, Apply and Export need Store.
type Config struct {
	Store portal.Store

	// Getenv looks up ${NAME} references; nil uses os.LookupEnv.
	Getenv func(name string) (string, bool)
	// HTTPClient fetches OpenAPI documents given by URL; nil uses the
	// openapi package's default.
	HTTPClient *http.Client
	// HashPassword and VerifyPassword default to the auth package's
	// argon2id functions.
	HashPassword   func(pw string) (string, error)
	VerifyPassword func(hash, pw string) bool
}

func (c Config) withDefaults() Config {
	if c.Getenv == nil {
		c.Getenv = os.LookupEnv
	}
	if c.HashPassword == nil {
		c.HashPassword = auth.HashPassword
	}
	if c.VerifyPassword == nil {
		c.VerifyPassword = auth.VerifyPassword
	}
	return c
}
