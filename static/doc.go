// Package static embeds the portal's stylesheet, script and images and
// names each file by a hash of its content, so that pages can link to
// /static/{hash}/{path} and browsers may cache those URLs forever: a
// changed file gets a new URL.
//
// Everything here is written by hand: no framework, no CDN, no third-party
// resource. The pages work without the script; it only adds conveniences
// such as copy buttons.
//
// It imports only the standard library.
package static
