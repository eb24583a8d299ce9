package devidp

import "net/http"

// routes is the provider's one route table.
func (p *Provider) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DiscoveryPath, p.handleDiscovery)
	mux.HandleFunc("GET "+JWKSPath, p.handleJWKS)
	mux.HandleFunc("POST "+TokenPath, p.handleToken)
	mux.HandleFunc("GET "+AuthorizationPath, p.handleAuthorize)
	mux.HandleFunc("POST "+AuthorizationPath, p.handleLogin)
	mux.HandleFunc("GET "+UserInfoPath, p.handleUserInfo)
	mux.HandleFunc("POST "+UserInfoPath, p.handleUserInfo)
	mux.HandleFunc("GET /{tenant}/v2.0"+DiscoveryPath, p.handleTenantDiscovery)
	return mux
}
