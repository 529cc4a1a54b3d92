package gateway

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address a request came from. X-Forwarded-For is
// believed only as far as it was written by trusted proxies: walking it from
// the right, the first address that is not a trusted proxy is the client. With no
// trusted proxies the header is ignored, since anyone can send it.
func ClientIP(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	if !contains(trusted, addr) {
		return addr, true
	}
	forwarders := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(forwarders) - 1; i >= 0; i-- {
		forwarder, err := netip.ParseAddr(strings.TrimSpace(forwarders[i]))
		if err != nil {
			// A garbled entry: nothing to its left can be trusted either.
			return addr, true
		}
		addr = forwarder.Unmap()
		if !contains(trusted, addr) {
			return addr, true
		}
	}
	return addr, true
}

func contains(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// allowFrom answers 404 to requests whose client address is outside allow;
// an empty list allows everyone (aggregators such as Africa's Talking
// publish no address ranges, docs/providers.md, "Authentication of callbacks").
func allowFrom(allow, trustedProxies []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if len(allow) == 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ip, ok := ClientIP(r, trustedProxies); !ok || !contains(allow, ip) {
				notFound(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or single
// addresses ("196.201.214.0/24, 10.0.0.7").
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", item)
			}
			out = append(out, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or CIDR prefix", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
