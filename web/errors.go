package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/porticoapi/portico/auth"
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
	case portal.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// statusOf is the status for err: 429 for an attempt refused after too
// many failures (auth.LimitError), otherwise the status of err's code.
func statusOf(err error) int {
	var limited *auth.LimitError
	if errors.As(err, &limited) {
		return http.StatusTooManyRequests
	}
	return statusFor(portal.ErrorCode(err))
}

// setRetryAfter tells the client when a refused attempt may be repeated.
func setRetryAfter(w http.ResponseWriter, err error) {
	var limited *auth.LimitError
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds())))
	}
}

// logError logs a failed request once, at debug level for the caller's
// mistakes and at error level for ours.
func (s *Server) logError(r *http.Request, status int, err error) {
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
}

// formError prepares the re-rendering of a form after err: it logs err and
// returns the status and the message to show beside the form. An internal
// error is not the visitor's to fix: formError answers it with the error
// page itself and returns ok false.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, err error) (status int, message string, ok bool) {
	status = statusOf(err)
	if status >= 500 {
		s.error(w, r, err)
		return 0, "", false
	}
	s.logError(r, status, err)
	setRetryAfter(w, err)
	return status, portal.ErrorMessage(err), true
}

// error answers a failed request: it logs err once, then sends a visitor
// who must sign in to the sign-in page, and anyone else the error page
// with the status of err's code. Only a *portal.Error's message reaches the
// visitor; any other error shows a constant text.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := portal.ErrorCode(err)
	status := statusOf(err)
	s.logError(r, status, err)
	if code == portal.EUNAUTHORIZED && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		http.Redirect(w, r, signInURL(r), http.StatusSeeOther)
		return
	}
	setRetryAfter(w, err)
	message := internalErrorMessage
	if status < 500 || code == portal.EUNAVAILABLE {
		// An unavailable dependency's message says what is down and
		// what to do; it carries no internal detail.
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
	case http.StatusTooManyRequests:
		return "Too many attempts", []components.Link{home}
	case http.StatusServiceUnavailable:
		return "Temporarily unavailable", []components.Link{{Label: "Sign in", URL: "/signin"}, home}
	}
	return "Something went wrong", []components.Link{home}
}
