package views

import "github.com/porticoapi/portico/web/components"

// SettingsForm is the portal settings form as typed, so that it comes back
// unchanged with the message when the store refuses it.
type SettingsForm struct {
	Title               string
	AnonymousAccess     string // allow | redirect
	SignIn              bool
	SignUp              bool
	EmailConfirmation   bool
	AllowedEmailDomains string // one per line
	MinPasswordLength   string
	TermsOfUse          string
	InvitationTTL       string
	IdleTimeout         string
	AbsoluteTimeout     string
}

// SettingsView is the administration's settings page.
type SettingsView struct {
	Frame     AdminFrame
	Form      SettingsForm
	Anonymous []components.Choice
	Error     string
	Action    string
}
