package devidp

import "net/http"

// routes is the provider's one route table.
func (p *Provider) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, p.handleDiscovery)
	mux.HandleFunc("GET "+JWKSPath, p.handleJWKS)
	mux.HandleFunc("POST "+TokenPath, p.handleToken)
	// The identity issue adds the interactive endpoints here:
	//   GET  /authorize  (authorization code with PKCE S256, a test user chooser)
	//   GET  /userinfo   (bearer access token from /token)
	// and the authorization_code grant in handleToken's switch (token.go);
	// discovery then advertises them (provider.go handleDiscovery).
	return mux
}
