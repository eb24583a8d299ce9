package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed sqlite/*.sql
var sqliteFiles embed.FS

// SQLite returns the migrations of the embedded SQLite store, its files at
// the root.
func SQLite() fs.FS {
	sub, err := fs.Sub(sqliteFiles, "sqlite")
	if err != nil {
		panic(err) // the folder is embedded; fs.Sub fails only on an invalid name
	}
	return sub
}

// Migration is one numbered schema change.
type Migration struct {
	Version int    // the file's number
	Name    string // the file name, e.g. "0001_init.sql"
	SQL     string
}

// List reads the .sql files at the root of fsys and returns them by version.
// It refuses a badly named file, a repeated number and a gap, so that a
// mistake in the folder stops a release instead of skipping a change.
func List(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %04d; versions must start at 1 without gaps or repeats", m.Name, i+1)
		}
	}
	return out, nil
}
