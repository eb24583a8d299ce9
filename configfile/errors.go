package configfile

import (
	"errors"
	"fmt"
	"sort"

	"github.com/porticoapi/portico/portal"
)

// Error is a problem at one place of a config file. Err is a *portal.Error
// (code EINVALID or ECONFLICT) for problems with the file's content, so
// portal.ErrorCode and portal.ErrorMessage work on it; other errors (an
// unreadable file, a store failure) are wrapped as they are.
type Error struct {
	File string // the path given to Load
	Line int    // 1-based; 0 when the problem is not at one line
	Key  string // where in the file: "apis[0].backend.url"; "" for the whole file
	Err  error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	if pe, ok := e.Err.(*portal.Error); ok {
		msg = pe.Message // written for people; Error() adds the code
	}
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key != "" {
		return where + ": " + e.Key + ": " + msg
	}
	return where + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// applyError is a change set the store refused.
type applyError struct{ err error }

func (e applyError) Error() string {
	msg := e.err.Error()
	var pe *portal.Error
	if errors.As(e.err, &pe) {
		msg = pe.Message
	}
	return "the store refused the change, nothing was changed: " + msg
}

func (e applyError) Unwrap() error { return e.err }

// maxErrors bounds how many problems one Load or Plan reports: enough to
// fix a file in one go, not so many that the first ones scroll away.
const maxErrors = 50

// errorList collects the problems of a file so that one run reports all of
// them, ordered by line.
type errorList struct {
	file string
	errs []*Error
}

func (l *errorList) add(line int, key string, err error) {
	l.errs = append(l.errs, &Error{File: l.file, Line: line, Key: key, Err: err})
}

func (l *errorList) addf(line int, key, format string, args ...any) {
	l.add(line, key, portal.Errorf(portal.EINVALID, format, args...))
}

func (l *errorList) conflictf(line int, key, format string, args ...any) {
	l.add(line, key, portal.Errorf(portal.ECONFLICT, format, args...))
}

func (l *errorList) len() int { return len(l.errs) }

// err returns nil, or the problems joined one per line.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	errs := make([]error, 0, min(len(l.errs), maxErrors)+1)
	for i, e := range l.errs {
		if i == maxErrors {
			errs = append(errs, fmt.Errorf("%s: and %d more problems", l.file, len(l.errs)-maxErrors))
			break
		}
		errs = append(errs, e)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
