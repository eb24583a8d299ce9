package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
)

// render answers with the page c, rendered in full before anything is
// written, so that a failed render sends the error page instead of half a
// page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if err := s.writePage(w, r, status, c); err != nil {
		s.error(w, r, err)
	}
}

// writePage renders c into a buffer and, only if that succeeds, writes the
// status and the page. On error nothing has been written.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, status int, c templ.Component) error {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	if err != nil {
		// The visitor went away; there is no one left to tell.
		s.logger.DebugContext(r.Context(), "write page", "request_id", requestIDFrom(r.Context()), "error", err)
	}
	return nil
}
