package views

// IdentityProviderButton is one "Sign in with ..." button of the sign-in
// page.
type IdentityProviderButton struct {
	Name  string // the provider's name, for the button's test id
	Label string // the provider's display name
	URL   string // GET /signin/{idp}, with the return path
}
