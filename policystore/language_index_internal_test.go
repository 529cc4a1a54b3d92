package policystore

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// However changes arrive and are merged, the index answers what the last
// change of each phone said.
func TestLanguageIndexMergesChanges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := NewLanguageIndex(nil)
	want := map[string]string{}
	langs := []string{"en", "fr", "sw", "ne"}
	for round := range 5 {
		for range 3000 {
			phone := fmt.Sprintf("+2557%08d", r.IntN(5000))
			lang := langs[r.IntN(len(langs))]
			x.put(phone, lang)
			want[phone] = lang
		}
		if round%2 == 0 {
			x.merge()
		}
		for phone, lang := range want {
			key, _ := packPhone(phone)
			n, ok := x.lookup(key)
			if !ok || x.codes[n] != lang {
				t.Fatalf("round %d: %s = %v %v, want %s", round, phone, n, ok, lang)
			}
		}
		if key, _ := packPhone("+255799999999"); func() bool { _, ok := x.lookup(key); return ok }() {
			t.Fatal("a phone never put was found")
		}
	}
	x.merge()
	if len(x.sorted) != len(want) || len(x.recent) != 0 {
		t.Fatalf("%d sorted, %d recent; want %d and 0", len(x.sorted), len(x.recent), len(want))
	}
}
