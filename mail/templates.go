package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

//go:embed templates/*.txt templates/*.html
var templateFiles embed.FS

// Kinds of message, one pair of templates each (templates/KIND.txt and
// templates/KIND.html). The first line of the text template is
// "Subject: ...".
const (
	ConfirmSignup = "confirm_signup"
	// ConfirmProviderSignup confirms the address of an account made by a
	// sign-in at an identity provider that did not vouch for it: it
	// names the provider, so that someone who did not sign in there
	// knows not to open the link.
	ConfirmProviderSignup = "confirm_provider_signup"
	ResetPassword         = "reset_password"
	Invitation            = "invitation"
	SubscriptionApproved  = "subscription_approved"
	SubscriptionRejected  = "subscription_rejected"
	ApprovalPending       = "approval_pending"
	// AccountExists answers a sign-up with an address that already has an
	// account: the portal's page says "check your email" either way, and
	// the owner learns how to sign in or reset the password.
	AccountExists = "account_exists"
)

// Data is what the templates may use. Link is an absolute URL built from
// the public URL.
type Data struct {
	SiteTitle    string
	Name         string // the recipient's name, or ""
	Link         string
	ValidFor     string // "48 hours"
	Product      string
	Subscription string
	Comment      string // an administrator's comment
	Requester    string // for ApprovalPending: who asked
	Provider     string // for ConfirmProviderSignup: the identity provider's name as shown
}

// Templates renders messages.
type Templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewTemplates parses the embedded templates.
func NewTemplates() (*Templates, error) {
	text, err := texttemplate.New("").Option("missingkey=error").ParseFS(templateFiles, "templates/*.txt")
	if err != nil {
		return nil, fmt.Errorf("mail: templates: %w", err)
	}
	html, err := htmltemplate.New("").Option("missingkey=error").ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("mail: templates: %w", err)
	}
	return &Templates{text: text, html: html}, nil
}

// Render builds the message of kind for to.
func (t *Templates) Render(kind string, to string, d Data) (*Message, error) {
	var text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&text, kind+".txt", d); err != nil {
		return nil, fmt.Errorf("mail: render %s: %w", kind, err)
	}
	if err := t.html.ExecuteTemplate(&html, kind+".html", d); err != nil {
		return nil, fmt.Errorf("mail: render %s: %w", kind, err)
	}
	first, body, _ := strings.Cut(text.String(), "\n")
	subject, ok := strings.CutPrefix(first, "Subject: ")
	if !ok {
		return nil, fmt.Errorf("mail: template %s.txt does not start with a Subject line", kind)
	}
	// A subject is one line whatever the data held.
	subject = strings.Join(strings.Fields(subject), " ")
	return &Message{To: []string{to}, Subject: subject, Text: strings.TrimLeft(body, "\n"), HTML: html.String()}, nil
}
