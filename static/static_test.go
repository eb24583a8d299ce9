package static_test

import (
	"regexp"
	"testing"

	"github.com/porticoapi/portico/static"
)

func TestAssets(t *testing.T) {
	a, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	b, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	hash := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, p := range []string{"css/portico.css", "js/portico.js", "img/logo.svg"} {
		f, ok := a.Get(p)
		if !ok {
			t.Fatalf("no %s", p)
		}
		if !hash.MatchString(f.Hash) || f.ContentType == "" || len(f.Content) == 0 {
			t.Errorf("%s: %+v", p, f)
		}
		if g, _ := b.Get(p); g.Hash != f.Hash {
			t.Errorf("%s: hash changes between loads", p)
		}
	}
	if _, ok := a.Get("../go.mod"); ok {
		t.Fatal("a path outside the folder was found")
	}
}
