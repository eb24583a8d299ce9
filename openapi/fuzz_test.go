package openapi

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/porticoapi/portico/portal"
)

// FuzzParse checks that no input panics, and that Parse returns either a
// document whose operations the portal accepts or an EINVALID error. The
// seeds are every file under testdata; `go test` runs only them.
func FuzzParse(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(context.Background(), data, Options{Location: "fuzz.yaml", BaseDir: "testdata"})
		if err != nil {
			if doc != nil {
				t.Fatal("a document came back with the error")
			}
			if portal.ErrorCode(err) != portal.EINVALID {
				t.Fatalf("error code %q: %v", portal.ErrorCode(err), err)
			}
			return
		}
		seen := make(map[string]bool)
		for i := range doc.Operations {
			op := &doc.Operations[i]
			if err := op.Validate(); err != nil {
				t.Fatalf("operation %d: %v", i, err)
			}
			if seen[op.ID] {
				t.Fatalf("operation id %q twice", op.ID)
			}
			seen[op.ID] = true
		}
	})
}
