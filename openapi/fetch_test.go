package openapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porticoapi/portico/portal"
)

func TestFetch(t *testing.T) {
	shop, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/shop.yaml":
			w.Write(shop)
		case "/chunked.yaml":
			// No Content-Length: the cap must hold while reading.
			for i := 0; i < 4; i++ {
				w.Write(shop)
				w.(http.Flusher).Flush()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	tests := []struct {
		name     string
		location string
		opts     FetchOptions
		want     []byte // nil: an error
		err      string
	}{
		{"relative file", "shop.yaml", FetchOptions{BaseDir: "testdata"}, shop, ""},
		{"absolute file", abs, FetchOptions{BaseDir: "elsewhere"}, shop, ""},
		{"URL", srv.URL + "/shop.yaml", FetchOptions{Client: srv.Client()}, shop, ""},
		{"default client", srv.URL + "/shop.yaml", FetchOptions{}, shop, ""},
		{"missing file", "nope.yaml", FetchOptions{BaseDir: "testdata"}, nil, "nope.yaml: file not found."},
		{"directory", "common", FetchOptions{BaseDir: "testdata"}, nil, "common: not a regular file."},
		{"file too large", "shop.yaml", FetchOptions{BaseDir: "testdata", MaxBytes: 1024}, nil, "shop.yaml: the document is larger than 1 KiB."},
		{"404", srv.URL + "/missing.yaml", FetchOptions{}, nil, srv.URL + "/missing.yaml: the server answered 404 Not Found."},
		{"answer too large", srv.URL + "/shop.yaml", FetchOptions{MaxBytes: 100}, nil, srv.URL + "/shop.yaml: the document is larger than 100 bytes."},
		{"chunked answer too large", srv.URL + "/chunked.yaml", FetchOptions{MaxBytes: int64(2 * len(shop))}, nil, srv.URL + "/chunked.yaml: the document is larger than"},
		{"unsupported scheme", "ftp://example.com/spec.yaml", FetchOptions{}, nil, "ftp://example.com/spec.yaml: only file paths and http(s) URLs can be read, not ftp: URLs."},
		{"empty", "", FetchOptions{}, nil, "OpenAPI document location required."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fetch(context.Background(), tt.location, tt.opts)
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("Fetch returned %d bytes, want %d", len(got), len(tt.want))
				}
				return
			}
			if got != nil {
				t.Fatal("bytes came back with the error")
			}
			if portal.ErrorCode(err) != portal.EINVALID || !strings.HasPrefix(portal.ErrorMessage(err), tt.err) {
				t.Fatalf("err = %v, want %s", err, tt.err)
			}
		})
	}
}

func TestFetchCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fetch(ctx, srv.URL+"/shop.yaml", FetchOptions{}); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
