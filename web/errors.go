package web

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/porticoapi/portico/portal"
	"github.com/porticoapi/portico/web/components"
	"github.com/porticoapi/portico/web/views"
)

// internalErrorMessage is all a visitor learns of an internal error; the
// detail goes to the log under the same request id.
const internalErrorMessage = "Something went wrong on our side. Please try again in a moment; if it keeps happening, tell the portal's administrators and quote the request id below."

// statusFor maps a portal error code to an HTTP status. It is the only such
// mapping in the portal's web layer.
func statusFor(code string) int {
	switch code {
	case portal.EINVALID:
		return http.StatusBadRequest
	case portal.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case portal.EFORBIDDEN:
		return http.StatusForbidden
	case portal.ENOTFOUND:
		return http.StatusNotFound
	case portal.ECONFLICT:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// error answers a failed request: it logs err once, then sends a visitor
// who must sign in to the sign-in page, and anyone else the error page
// with the status of err's code. Only a *portal.Error's message reaches the
// visitor; any other error shows a constant text.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := portal.ErrorCode(err)
	status := statusFor(code)
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger.LogAttrs(r.Context(), level, "request failed",
		slog.String("request_id", requestIDFrom(r.Context())),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("error", err.Error()),
	)
	if code == portal.EUNAUTHORIZED && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		http.Redirect(w, r, signInURL(r), http.StatusSeeOther)
		return
	}
	message := internalErrorMessage
	if status < 500 {
		message = portal.ErrorMessage(err)
	}
	s.errorPage(w, r, status, message)
}

// handleNotFound answers every path the route table does not know.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.error(w, r, portal.Errorf(portal.ENOTFOUND, "There is no page at this address. It may have moved, or the link may be mistyped."))
}

// errorPage renders the error page with status and message. It must not
// fail: without settings it uses the defaults, and if even that page does
// not render it falls back to plain text.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	settings, err := s.store.FindSettings(r.Context())
	if err != nil {
		d := portal.DefaultSettings()
		settings = &d
	}
	heading, actions := errorHeading(status, r)
	v := views.ErrorView{
		Shell:     s.shell(r, settings, heading, ""),
		Status:    status,
		Heading:   heading,
		Message:   message,
		RequestID: requestIDFrom(r.Context()),
		Actions:   actions,
	}
	if err := s.writePage(w, r, status, views.ErrorPage(v)); err != nil {
		s.logger.ErrorContext(r.Context(), "render error page", "request_id", v.RequestID, "error", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(strconv.Itoa(status) + " " + http.StatusText(status) + "\n"))
	}
}

func errorHeading(status int, r *http.Request) (string, []components.Link) {
	home := components.Link{Label: "Go to the home page", URL: "/"}
	switch status {
	case http.StatusBadRequest:
		return "Something is wrong with this request", []components.Link{home}
	case http.StatusUnauthorized:
		return "Please sign in", []components.Link{{Label: "Sign in", URL: signInURL(r)}, home}
	case http.StatusForbidden:
		return "Not allowed", []components.Link{home}
	case http.StatusNotFound:
		return "Page not found", []components.Link{{Label: "Browse APIs", URL: catalogueURL("", "", 1)}, home}
	case http.StatusConflict:
		return "That clashes with something that exists", []components.Link{home}
	}
	return "Something went wrong", []components.Link{home}
}
