package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
)

//go:embed css js img
var files embed.FS

// hashLength is how many hex characters of the SHA-256 name a version: 64
// bits, far more than the handful of files will ever need.
const hashLength = 16

// contentTypes names the types of the files this package may hold. It is
// fixed here rather than read from the system's MIME tables, which differ
// between hosts (and a wrong type with nosniff breaks the page).
var contentTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
}

// Asset is one embedded file.
type Asset struct {
	Path        string // slash-separated, relative to this folder: "css/portico.css"
	Hash        string // hex prefix of the SHA-256 of Content
	ContentType string
	Content     []byte
}

// Assets indexes the embedded files by path. It never changes after New and
// is safe for concurrent use.
type Assets struct {
	byPath map[string]*Asset
}

// New reads and hashes every embedded file.
func New() (*Assets, error) {
	a := &Assets{byPath: map[string]*Asset{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := contentTypes[path.Ext(p)]
		if ctype == "" {
			return fmt.Errorf("static: no content type for %s", p)
		}
		a.byPath[p] = &Asset{Path: p, Hash: hex.EncodeToString(sum[:])[:hashLength], ContentType: ctype, Content: b}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return a, nil
}

// Get returns the file at path.
func (a *Assets) Get(path string) (*Asset, bool) {
	f, ok := a.byPath[path]
	return f, ok
}

// Paths lists every embedded file, in no particular order.
func (a *Assets) Paths() []string {
	out := make([]string, 0, len(a.byPath))
	for p := range a.byPath {
		out = append(out, p)
	}
	return out
}
