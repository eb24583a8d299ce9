// Package components holds the portal's data-free templ pieces: the layout
// shell, navigation, buttons, badges and chips, cards, tables, alerts, code
// blocks with a copy button, and the schema tree.
//
// Each piece takes a small typed view model declared here and renders it;
// none fetches data or knows where its values came from. The package must
// not import portal, auth or web: pages in web/views compose these pieces,
// and web fills the view models.
//
// Markup rules every piece follows, because the Content-Security-Policy
// enforces them: no inline script, no style attribute, no event-handler
// attribute. Behaviour comes from static/js via data attributes, and
// anything tests look for carries a data-testid.
package components
