package openimis_test

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// TestDependenciesPointInward: the domain imports nothing of the gateway
// but the text clipper, and the menus reach the store only through their
// own interfaces over this package's types (their tests may use it).
func TestDependenciesPointInward(t *testing.T) {
	const module = "github.com/openimis/imis-gateway/"
	for dir, allowed := range map[string][]string{
		".":        {module + "clip"},
		"../menus": {module + "openimis", module + "menus/gsm7"},
	} {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, module) && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s", pkg.Name, imp)
			}
		}
	}
}
