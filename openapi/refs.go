package openapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/getkin/kin-openapi/openapi3"
)

// Caps on the files that $refs lead to. One file may be as large as a
// fetched document; together they may be a few times that.
const (
	maxRefFileBytes  = 10 << 20
	maxRefTotalBytes = 32 << 20
)

// refReader is the loader's only way to read anything besides the document
// itself. kin-openapi does not check IsExternalRefsAllowed once a
// ReadFromURIFunc is set, so this function is the whole policy: no URLs, and
// files only below baseDir.
type refReader struct {
	ctx     context.Context
	baseDir string
	root    *os.Root // opened on first use
	cache   map[string][]byte
	total   int64
}

func (r *refReader) close() {
	if r.root != nil {
		r.root.Close()
	}
}

func (r *refReader) read(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	if u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%s refused: Portico does not fetch URLs named in a document", quoteRef(u))
	}
	if u.Path == "" {
		// The library rereads the document itself this way after a $ref
		// into it failed; its own error is the one to report.
		return nil, errors.New("the document is not read twice")
	}
	if r.baseDir == "" {
		return nil, fmt.Errorf("%s refused: this document was not read from a file, so it may not refer to other files", quoteRef(u))
	}
	name := filepath.FromSlash(u.Path)
	// IsLocal refuses absolute paths, "..", and on Windows volume names and
	// reserved device names; os.Root below also refuses symbolic links that
	// lead out of baseDir.
	if !filepath.IsLocal(name) {
		return nil, fmt.Errorf("%s refused: a $ref may only name a file in the document's directory or below it", quoteRef(u))
	}
	if b, ok := r.cache[name]; ok {
		return b, nil
	}
	if r.root == nil {
		root, err := os.OpenRoot(r.baseDir)
		if err != nil {
			return nil, fmt.Errorf("cannot open the document's directory: %v", unwrapPathError(err))
		}
		r.root = root
	}
	f, err := r.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("file %q not found", u.Path)
		}
		return nil, fmt.Errorf("cannot read %q: %v", u.Path, unwrapPathError(err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot read %q: not a regular file", u.Path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRefFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %v", u.Path, unwrapPathError(err))
	}
	if len(b) > maxRefFileBytes {
		return nil, fmt.Errorf("file %q is larger than %d MiB", u.Path, maxRefFileBytes>>20)
	}
	if err := fileShape(b).check(); err != nil {
		return nil, fmt.Errorf("file %q: %v", u.Path, err)
	}
	r.total += int64(len(b))
	if r.total > maxRefTotalBytes {
		return nil, fmt.Errorf("the files named by $refs are larger than %d MiB together", maxRefTotalBytes>>20)
	}
	if r.cache == nil {
		r.cache = make(map[string][]byte)
	}
	r.cache[name] = b
	return b, nil
}

func quoteRef(u *url.URL) string {
	return fmt.Sprintf("$ref to %q", u.Redacted())
}

// unwrapPathError drops the path from an *fs.PathError: it is the server's
// absolute path, which the person reading the message need not see.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
