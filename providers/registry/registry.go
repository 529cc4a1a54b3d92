// Package registry lists the providers the gateway knows, one line each, in
// the order help texts and the banner list them. Adding a provider is its
// package (providers/<name>, declaring a providers.Provider) and one line
// here; nothing else in the gateway names a provider.
package registry

import (
	"slices"

	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/africastalking"
	"github.com/openimis/imis-gateway/providers/arkesel"
	"github.com/openimis/imis-gateway/providers/beem"
	"github.com/openimis/imis-gateway/providers/hubtel"
	"github.com/openimis/imis-gateway/providers/infobip"
	"github.com/openimis/imis-gateway/providers/nalo"
	"github.com/openimis/imis-gateway/providers/twilio"
)

// all is every provider, in order. The first that carries USSD is the
// default (Default).
var all = []providers.Provider{
	africastalking.Provider,
	hubtel.Provider,
	nalo.Provider,
	arkesel.Provider,
	infobip.Provider,
	beem.Provider,
	twilio.Provider,
}

// All returns every provider, in order.
func All() []providers.Provider { return slices.Clone(all) }

// USSD returns the providers that carry USSD, in order: those
// USSD_PROVIDERS may name.
func USSD() []providers.Provider {
	return slices.DeleteFunc(All(), func(p providers.Provider) bool { return p.USSD == nil })
}

// Default is the USSD provider served when USSD_PROVIDERS is unset, and the
// one the terminal simulator speaks unless told otherwise.
func Default() providers.Provider { return USSD()[0] }

// Lookup returns the provider called name.
func Lookup(name string) (providers.Provider, bool) {
	i := slices.IndexFunc(all, func(p providers.Provider) bool { return p.Name == name })
	if i < 0 {
		return providers.Provider{}, false
	}
	return all[i], true
}

// Names returns the names of ps, in order.
func Names(ps []providers.Provider) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}
