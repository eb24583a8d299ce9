// Package views holds the portal's pages as templ components and the view
// models they take. A page composes web/components inside the layout; it
// formats what it is given and never fetches data.
//
// View models are plain structs filled by the handlers in web. They carry
// display-ready values (titles, URLs, labels), not domain objects, so this
// package does not import portal or auth.
package views
