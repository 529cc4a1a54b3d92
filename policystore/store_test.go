package policystore_test

import (
	"context"
	"testing"

	"github.com/openimis/imis-gateway/policystore"
	"github.com/openimis/imis-gateway/policystore/pgtest"
)

// TestApplicationName: the pool names its connections, so that an operator
// tells the trace's from the hops' in pg_stat_activity; a URL's own name wins.
func TestApplicationName(t *testing.T) {
	url := pgtest.NewDatabase(t)
	for _, tc := range []struct {
		url, option, want string
	}{
		{url, "", "imis-gateway"},
		{url, "imis-gateway trace", "imis-gateway trace"},
		{url + "&application_name=scheme-gw", "imis-gateway trace", "scheme-gw"},
	} {
		s, err := policystore.Open(context.Background(), tc.url, policystore.Options{ApplicationName: tc.option})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := s.Pool().QueryRow(context.Background(), "SHOW application_name").Scan(&got); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got != tc.want {
			t.Errorf("option %q, URL %q: application_name %q, want %q", tc.option, tc.url, got, tc.want)
		}
	}
}
