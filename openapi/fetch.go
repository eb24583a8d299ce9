package openapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/porticoapi/portico/portal"
)

// defaultMaxBytes is the largest document Fetch reads when
// FetchOptions.MaxBytes is 0.
const defaultMaxBytes = 10 << 20

// FetchOptions configure Fetch.
type FetchOptions struct {
	BaseDir  string       // relative paths resolve against it
	Client   *http.Client // for http(s) URLs; nil: a client with a 30s timeout
	MaxBytes int64        // 0: 10 MiB
}

// Fetch reads a spec from a file path (relative to BaseDir) or an http(s) URL,
// refusing anything larger than MaxBytes and non-2xx answers. Failures a user
// can fix (no such file, a 404, too large, unreachable host) are EINVALID
// errors that name the location; a cancelled ctx returns ctx.Err().
//
// Fetch trusts its location as a config file's author is trusted: a file
// path may be absolute or lead out of BaseDir. Callers that take a location
// from a less trusted source must check it first, and pass a Client whose
// transport refuses addresses such a source must not reach.
func Fetch(ctx context.Context, location string, opts FetchOptions) ([]byte, error) {
	max := opts.MaxBytes
	if max <= 0 {
		max = defaultMaxBytes
	}
	if location == "" {
		return nil, portal.Errorf(portal.EINVALID, "OpenAPI document location required.")
	}
	if u, err := url.Parse(location); err == nil && u.Scheme != "" && !isWindowsDrive(location) {
		switch strings.ToLower(u.Scheme) {
		case "http", "https":
			return fetchURL(ctx, u, opts.Client, max)
		default:
			return nil, portal.Errorf(portal.EINVALID, "%s: only file paths and http(s) URLs can be read, not %s: URLs.", location, u.Scheme)
		}
	}
	return readFile(ctx, location, opts.BaseDir, max)
}

func fetchURL(ctx context.Context, u *url.URL, client *http.Client, max int64) ([]byte, error) {
	location := u.Redacted()
	if u.Host == "" {
		return nil, portal.Errorf(portal.EINVALID, "%s: the URL has no host.", location)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "%s: %v", location, err)
	}
	req.Header.Set("Accept", "application/yaml, application/json;q=0.9, text/yaml;q=0.9, */*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the method and URL
		}
		return nil, portal.Errorf(portal.EINVALID, "%s: cannot fetch: %v", location, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, portal.Errorf(portal.EINVALID, "%s: the server answered %s.", location, resp.Status)
	}
	if resp.ContentLength > max {
		return nil, tooLarge(location, max)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, portal.Errorf(portal.EINVALID, "%s: cannot read the answer: %v", location, err)
	}
	if int64(len(b)) > max {
		return nil, tooLarge(location, max)
	}
	return b, nil
}

func readFile(ctx context.Context, location, baseDir string, max int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := filepath.FromSlash(location)
	if !filepath.IsAbs(name) && baseDir != "" {
		name = filepath.Join(baseDir, name)
	}
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, portal.Errorf(portal.EINVALID, "%s: file not found.", location)
		}
		return nil, portal.Errorf(portal.EINVALID, "%s: cannot read: %v", location, unwrapPathError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "%s: cannot read: %v", location, unwrapPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, portal.Errorf(portal.EINVALID, "%s: not a regular file.", location)
	}
	if fi.Size() > max {
		return nil, tooLarge(location, max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, portal.Errorf(portal.EINVALID, "%s: cannot read: %v", location, unwrapPathError(err))
	}
	if int64(len(b)) > max {
		return nil, tooLarge(location, max)
	}
	return b, nil
}

func tooLarge(location string, max int64) error {
	return portal.Errorf(portal.EINVALID, "%s: the document is larger than %s.", location, byteSize(max))
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// isWindowsDrive tells "C:\specs\a.yaml" from a URL with scheme "c".
func isWindowsDrive(s string) bool {
	return len(s) >= 2 && s[1] == ':' && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') &&
		(len(s) == 2 || s[2] == '\\' || s[2] == '/')
}
