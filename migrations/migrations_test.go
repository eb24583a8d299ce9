package migrations_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/porticoapi/portico/migrations"
)

func TestSQLite(t *testing.T) {
	ms, err := migrations.List(migrations.SQLite())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Name != "0001_init.sql" || ms[0].Version != 1 {
		t.Fatalf("first migration = %+v, want 0001_init.sql", ms)
	}
	if !strings.Contains(ms[0].SQL, "CREATE TABLE store_version") {
		t.Fatal("0001_init.sql does not create store_version")
	}
}

func TestList(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string // names in order
		wantErr string
	}{
		{
			name: "ordered by number, other files ignored",
			fsys: fstest.MapFS{"0002_b.sql": file("B"), "0001_a.sql": file("A"), "README.md": file("x")},
			want: []string{"0001_a.sql", "0002_b.sql"},
		},
		{name: "gap", fsys: fstest.MapFS{"0001_a.sql": file(""), "0003_c.sql": file("")}, wantErr: "0003_c.sql"},
		{name: "repeat", fsys: fstest.MapFS{"0001_a.sql": file(""), "0001_b.sql": file("")}, wantErr: "expected version 0002"},
		{name: "bad name", fsys: fstest.MapFS{"init.sql": file("")}, wantErr: "init.sql"},
		{name: "short number", fsys: fstest.MapFS{"1_init.sql": file("")}, wantErr: "1_init.sql"},
		{name: "zero", fsys: fstest.MapFS{"0000_init.sql": file("")}, wantErr: "0000_init.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := migrations.List(tt.fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("List error = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("List = %v, want %v", got, tt.want)
			}
			if ms[0].SQL != "A" || ms[1].Version != 2 {
				t.Fatalf("List = %+v", ms)
			}
		})
	}
}
