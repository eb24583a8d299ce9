package views

import "github.com/porticoapi/portico/web/components"

// SignInPageView is the sign-in page: the form's own fields, and what
// password accounts add to it.
type SignInPageView struct {
	SignInView
	ResetURL string              // "Forgot your password?"; empty when password sign-in is off
	Captcha  *components.Captcha // asked for after repeated failures; nil otherwise
	// Providers are the identity providers' sign-in buttons.
	Providers []IdentityProviderButton
}

// SignUpView is the registration form. After a failed attempt it keeps
// what was typed, never the passwords.
type SignUpView struct {
	Shell             components.Shell
	Email             string
	Name              string
	TermsOfUse        string // shown, and must be accepted, when set
	TermsAccepted     bool
	MinPasswordLength int
	Captcha           components.Captcha
	Error             string
	SignInURL         string
}

// ResetRequestView asks for the address of the account whose password is
// forgotten.
type ResetRequestView struct {
	Shell   components.Shell
	Email   string
	Captcha components.Captcha
	Error   string
}

// ChoosePasswordView is the form an emailed reset link leads to.
type ChoosePasswordView struct {
	Shell             components.Shell
	Token             string
	MinPasswordLength int
	Error             string
}

// ConfirmSignupView is the page an emailed confirmation link leads to: a
// button rather than an automatic confirmation, so that mail scanners
// that open links do not use them up.
type ConfirmSignupView struct {
	Shell components.Shell
	Token string
}

// ChangePasswordView is the signed-in user's password page.
type ChangePasswordView struct {
	Shell             components.Shell
	HasPassword       bool // false: the account signs in with a provider only
	MinPasswordLength int
	Error             string
	Notice            string
	ResetURL          string
	CloseURL          string
}

// CloseAccountView confirms closing the signed-in user's account.
type CloseAccountView struct {
	Shell       components.Shell
	HasPassword bool
	Error       string
	PasswordURL string
}

// MessageView is a page that tells the outcome of an account action
// ("check your email", "your account is closed").
type MessageView struct {
	Shell      components.Shell
	Heading    string
	Paragraphs []string
	TestID     string
	Links      []components.Link
}
