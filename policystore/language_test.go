package policystore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openimis/imis-gateway/migrations"
	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

func TestLanguageStore(t *testing.T) {
	for _, flavor := range []migrations.Flavor{migrations.FlavorDjango, migrations.FlavorDump} {
		t.Run(string(flavor), func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t, pgtest.NewDatabase(t, pgtest.WithFlavor(flavor)), policystore.Options{})
			const phone = "+255712345678"
			if lang, ok, err := s.Language(ctx, phone); lang != "" || ok || err != nil {
				t.Fatalf("before any choice: %q %v %v", lang, ok, err)
			}
			if err := s.SetLanguage(ctx, phone, "sw"); err != nil {
				t.Fatal(err)
			}
			if lang, ok, err := s.Language(ctx, phone); lang != "sw" || !ok || err != nil {
				t.Fatalf("after choosing sw: %q %v %v", lang, ok, err)
			}
			var first time.Time
			if err := s.Pool().QueryRow(ctx, `SELECT updated_at FROM imis_gateway.phone_language WHERE phone = $1`, phone).Scan(&first); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
			if err := s.SetLanguage(ctx, phone, "ne"); err != nil {
				t.Fatal(err)
			}
			var (
				rows int
				last time.Time
			)
			if err := s.Pool().QueryRow(ctx, `SELECT count(*), max(updated_at) FROM imis_gateway.phone_language`).Scan(&rows, &last); err != nil {
				t.Fatal(err)
			}
			if lang, _, _ := s.Language(ctx, phone); lang != "ne" || rows != 1 || !last.After(first) {
				t.Fatalf("after changing to ne: %q, %d rows, updated %v then %v", lang, rows, first, last)
			}
			// Another phone is another row.
			if lang, ok, _ := s.Language(ctx, "+255712345679"); ok || lang != "" {
				t.Fatalf("other phone: %q", lang)
			}

			for _, bad := range []string{"", " +255712345678", "+255\x00712", "\xff", strings.Repeat("9", 40)} {
				if lang, ok, err := s.Language(ctx, bad); ok || lang != "" || err != nil {
					t.Errorf("Language(%q) = %q %v %v", bad, lang, ok, err)
				}
				if err := s.SetLanguage(ctx, bad, "fr"); err == nil {
					t.Errorf("SetLanguage(%q): no error", bad)
				}
			}
			if err := s.SetLanguage(ctx, phone, ""); err == nil {
				t.Error("empty language: no error")
			}

			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			for _, err := range []error{
				func() error { _, _, err := s.Language(cancelled, phone); return err }(),
				s.SetLanguage(cancelled, phone, "fr"),
			} {
				if err == nil || strings.Contains(err.Error(), "712345678") {
					t.Errorf("err = %v; want an error that names no phone", err)
				}
			}
		})
	}
}
