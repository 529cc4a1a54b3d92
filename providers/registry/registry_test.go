package registry

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openimis/imis-gateway/providers"
)

var (
	validName   = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	validPrefix = regexp.MustCompile(`^[A-Z][A-Z0-9]*_$`)
	ussdKinds   = []providers.RouteKind{providers.RouteHop, providers.RouteSessionEnd, providers.RouteSessionStatus}
	smsKinds    = []providers.RouteKind{providers.RouteInboundSMS, providers.RouteDeliveryReport}
	methods     = []string{http.MethodGet, http.MethodPost, http.MethodPut}
)

// TestEveryProviderIsComplete: each provider declares what the gateway will
// call for the routes it declares, under a name and prefix of its own. A
// provider missing a piece fails here rather than when the route is first
// called.
func TestEveryProviderIsComplete(t *testing.T) {
	names, prefixes := map[string]bool{}, map[string]bool{}
	for _, p := range All() {
		t.Run(p.Name, func(t *testing.T) {
			if !validName.MatchString(p.Name) || !validPrefix.MatchString(p.EnvPrefix) || p.Title == "" {
				t.Errorf("name %q, prefix %q, title %q", p.Name, p.EnvPrefix, p.Title)
			}
			if names[p.Name] || prefixes[p.EnvPrefix] {
				t.Errorf("name %q or prefix %q taken by another provider", p.Name, p.EnvPrefix)
			}
			names[p.Name], prefixes[p.EnvPrefix] = true, true
			if got, ok := Lookup(p.Name); !ok || got.Name != p.Name {
				t.Errorf("Lookup(%q) = %v, %v", p.Name, got.Name, ok)
			}
			if p.USSD == nil && p.SMS == nil {
				t.Fatal("carries neither USSD nor SMS")
			}
			if u := p.USSD; u != nil {
				checkRoutes(t, u.Routes, ussdKinds)
				c := u.Client
				if u.Parse == nil || u.Render == nil || u.ContentType == "" || c.Hop == nil || c.Read == nil {
					t.Error("USSD without Parse, Render, ContentType, Client.Hop or Client.Read")
				}
				if !hasKind(u.Routes, providers.RouteHop) {
					t.Error("USSD without a hop route")
				}
				if hasKind(u.Routes, providers.RouteSessionEnd) && u.ParseEnd == nil {
					t.Error("an end-of-session route without ParseEnd")
				}
				if hasKind(u.Routes, providers.RouteSessionStatus) && (u.StatusSession == nil || u.StatusBody == nil) {
					t.Error("a session-status route without StatusSession or StatusBody")
				}
				if b := u.Budget; b != (providers.Budget{}) && (b.GSM7 < 40 || b.UCS2 < 20) {
					t.Errorf("budget %+v", b)
				}
			}
			if s := p.SMS; s != nil {
				checkRoutes(t, s.Routes, smsKinds)
				if s.Settings == nil {
					t.Error("SMS without Settings")
				}
				if hasKind(s.Routes, providers.RouteInboundSMS) && s.ParseInbound == nil {
					t.Error("an inbound route without ParseInbound")
				}
				if hasKind(s.Routes, providers.RouteDeliveryReport) && s.ParseDelivery == nil {
					t.Error("a delivery-report route without ParseDelivery")
				}
				// A provider nobody configured must not keep the gateway from
				// starting.
				if _, problems := s.Settings(func(string) string { return "" }, ""); len(problems) > 0 {
					t.Errorf("unconfigured: %q", problems)
				}
				for _, h := range s.Help {
					if !strings.HasPrefix(h[0], p.EnvPrefix) || h[1] == "" {
						t.Errorf("help line %q", h)
					}
				}
			}
		})
	}
	if d := Default(); d.USSD == nil || d.Name != USSD()[0].Name {
		t.Errorf("default %q", d.Name)
	}
}

// checkRoutes fails t unless every route has a method, a pattern and one of
// kinds, and no two share a method and pattern.
func checkRoutes(t *testing.T, routes []providers.HTTPRoute, kinds []providers.RouteKind) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Pattern
		if !slices.Contains(methods, r.Method) || !strings.HasPrefix(r.Pattern, "/") || !slices.Contains(kinds, r.Kind) || seen[key] {
			t.Errorf("route %+v", r)
		}
		seen[key] = true
	}
}

func hasKind(routes []providers.HTTPRoute, kind providers.RouteKind) bool {
	return slices.ContainsFunc(routes, func(r providers.HTTPRoute) bool { return r.Kind == kind })
}
