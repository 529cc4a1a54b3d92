package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPAndAllowList(t *testing.T) {
	allow := mustPrefixes(t, "196.201.214.0/24, 41.90.1.7")
	proxies := mustPrefixes(t, "10.0.0.0/8, 127.0.0.1")
	cases := []struct {
		name    string
		remote  string
		xff     []string
		trusted bool // use the trusted proxies
		want    string
		allowed bool
	}{
		{"direct, allowed", "196.201.214.9:5000", nil, false, "196.201.214.9", true},
		{"direct, single address", "41.90.1.7:443", nil, false, "41.90.1.7", true},
		{"direct, refused", "8.8.8.8:5000", nil, false, "8.8.8.8", false},
		{"XFF ignored without trusted proxies", "8.8.8.8:5000", []string{"196.201.214.9"}, false, "8.8.8.8", false},
		{"XFF ignored from an untrusted peer", "8.8.8.8:5000", []string{"196.201.214.9"}, true, "8.8.8.8", false},
		{"through a trusted proxy", "10.1.2.3:5000", []string{"196.201.214.9"}, true, "196.201.214.9", true},
		{"through two trusted proxies", "127.0.0.1:5000", []string{"196.201.214.9, 10.9.9.9"}, true, "196.201.214.9", true},
		{"spoofed left part is not believed", "10.1.2.3:5000", []string{"196.201.214.9, 8.8.8.8"}, true, "8.8.8.8", false},
		{"several headers", "10.1.2.3:5000", []string{"196.201.214.9", "10.0.0.5"}, true, "196.201.214.9", true},
		{"garbled entry stops the walk", "10.1.2.3:5000", []string{"196.201.214.9, bogus"}, true, "10.1.2.3", false},
		{"IPv4-mapped IPv6", "[::ffff:196.201.214.9]:5000", nil, false, "196.201.214.9", true},
		{"IPv6 refused", "[2001:db8::1]:5000", nil, false, "2001:db8::1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/ussd/x/tok", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			var trusted = proxies
			if !c.trusted {
				trusted = nil
			}
			ip, ok := ClientIP(r, trusted)
			if !ok || ip.String() != c.want {
				t.Fatalf("ClientIP = %v %v, want %s", ip, ok, c.want)
			}
			w := httptest.NewRecorder()
			allowFrom(allow, trusted)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusOK)
			})).ServeHTTP(w, r)
			if got := w.Code == http.StatusOK; got != c.allowed {
				t.Fatalf("allowed = %v (status %d), want %v", got, w.Code, c.allowed)
			}
		})
	}
}

func TestEmptyAllowListAllowsEveryone(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "8.8.8.8:1"
	w := httptest.NewRecorder()
	allowFrom(nil, nil)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})).ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatal(w.Code)
	}
}

func TestParsePrefixesRejectsGarbage(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.org", "10.0.0.1/8/2"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func mustPrefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefixes(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
