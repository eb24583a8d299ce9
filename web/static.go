package web

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
)

// staticPrefix is where the embedded files are served, each under the hash
// of its content: /static/{hash}/css/portico.css.
const staticPrefix = "/static/"

// assetURL is the content-hashed URL of the embedded file at path.
func (s *Server) assetURL(path string) (string, error) {
	a, ok := s.assets.Get(path)
	if !ok {
		return "", fmt.Errorf("no static file %s", path)
	}
	return staticPrefix + a.Hash + "/" + a.Path, nil
}

// layoutAssets resolves the files every page links to, once, so that a
// missing file stops the server at start rather than breaking pages.
func (s *Server) layoutAssets() (components.Assets, error) {
	var a components.Assets
	for _, f := range []struct {
		path string
		url  *string
	}{
		{"css/portico.css", &a.Stylesheet},
		{"js/portico.js", &a.Script},
		{"img/logo.svg", &a.Icon},
	} {
		u, err := s.assetURL(f.path)
		if err != nil {
			return a, err
		}
		*f.url = u
	}
	return a, nil
}

// handleStatic serves an embedded file. The hash in the URL must be the
// file's current one: an old or made-up hash is a 404 rather than today's
// file under a URL that promises to be immutable.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := s.assets.Get(r.PathValue("file"))
	if !ok || a.Hash != r.PathValue("hash") {
		s.error(w, r, portal.Errorf(portal.ENOTFOUND, "There is no such file."))
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+a.Hash+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.Content))
}
