package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/openimis/imis-gateway/providers/internal/smsapi"
	"github.com/openimis/imis-gateway/providers/internal/wire"
)

// SignatureHeader carries Twilio's signature of a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// ErrSignature marks a webhook whose signature is missing or does not match:
// the gateway answers 403 and processes nothing.
var ErrSignature = errors.New("twilio signature invalid")

// ValidateSignature checks r's X-Twilio-Signature as Twilio's webhook security
// docs describe (docs/providers.md, "Twilio signatures"):
//
//  1. The signed URL is the one Twilio requested: publicURL, the gateway's
//     public base URL as configured in Twilio ("https://gw.example.org", or
//     with a path prefix a proxy strips), followed by the request's path and
//     query as received. The request's own scheme and host are never used:
//     behind a TLS terminator the request arrives as http while Twilio signed
//     https, and forwarding headers are the caller's to forge.
//  2. For a form POST, every body parameter is appended to the URL, names
//     sorted by byte order, each as name then value with no separators; a
//     repeated name contributes each of its values in received order. Other
//     requests sign the URL alone.
//  3. HMAC-SHA1 with authToken as key, standard padded base64, compared in
//     constant time. Like Twilio's own validators, the URL is also tried with
//     the scheme's default port added, or removed when present, because
//     Twilio's signing host and a proxy may disagree on it.
//  4. A JSON webhook carries bodySHA256 (hex SHA-256 of the raw body) in its
//     query: the signature covers the URL only, and the body must match the
//     hash.
//
// A missing header, an empty authToken or a mismatch returns an error wrapping
// ErrSignature. The body is read, buffered and put back for the parsers; a
// body cut short by http.MaxBytesReader returns an error in which errors.As
// finds the *http.MaxBytesError.
//
// Twilio's newer HMAC-SHA256 scheme (X-Twilio-Webhooks-Signature-Settings,
// docs/providers.md, "Twilio signatures") is not supported: it signs with a shared key the
// gateway has no configuration for yet.
func ValidateSignature(authToken, publicURL string, r *http.Request) error {
	if authToken == "" {
		return fmt.Errorf("%w: no auth token configured", ErrSignature)
	}
	got := r.Header.Get(SignatureHeader)
	if got == "" {
		return fmt.Errorf("%w: missing %s", ErrSignature, SignatureHeader)
	}
	if err := ValidPublicURL(publicURL); err != nil {
		return err
	}
	signed := strings.TrimSuffix(publicURL, "/") + requestURI(r)
	u, err := url.Parse(signed)
	if err != nil {
		return fmt.Errorf("%w: request URL: %v", ErrSignature, smsapi.WithoutURL(err))
	}
	body, err := bufferBody(r)
	if err != nil {
		return err
	}

	var params url.Values
	bodyHash := u.Query().Get("bodySHA256")
	if bodyHash == "" && r.Method == http.MethodPost && wire.CheckContentType(r, formType) == nil {
		if params, err = url.ParseQuery(string(body)); err != nil {
			return fmt.Errorf("%w: form body: %v", ErrSignature, err)
		}
	}
	ok := false
	for _, candidate := range portVariants(signed, u) {
		// Every candidate is computed, match or not, so timing says nothing
		// about which one matched.
		ok = hmac.Equal([]byte(Sign(authToken, candidate, params)), []byte(got)) || ok
	}
	if !ok {
		return fmt.Errorf("%w: signature does not match", ErrSignature)
	}
	if bodyHash != "" {
		sum := sha256.Sum256(body)
		if !hmac.Equal([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(bodyHash))) {
			return fmt.Errorf("%w: body does not match bodySHA256", ErrSignature)
		}
	}
	return nil
}

// Sign returns Twilio's signature of a request to fullURL with the given form
// parameters (nil for none): base64(HMAC-SHA1(authToken, URL + sorted
// name/value pairs)). The gateway's simulator and tests use it to sign
// requests as Twilio would.
func Sign(authToken, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	_, _ = io.WriteString(mac, fullURL) // a hash never fails to write
	for _, name := range slices.Sorted(maps.Keys(params)) {
		for _, v := range params[name] {
			_, _ = io.WriteString(mac, name)
			_, _ = io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidPublicURL checks a configured public base URL: absolute http or https,
// with a host, and no user info, query or fragment (the request's own are appended). The
// gateway should call it at start-up.
func ValidPublicURL(publicURL string) error {
	u, err := url.Parse(publicURL)
	switch {
	case err != nil:
		return fmt.Errorf("twilio public URL: %w", smsapi.WithoutURL(err))
	case u.User != nil:
		// Callback credentials go in the path token; whether Twilio signs a
		// URL with user info is not documented. Checked first, so that no
		// other answer quotes a password.
		return fmt.Errorf("twilio public URL: no user info allowed")
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("twilio public URL %q: want an http or https URL", publicURL)
	case u.Host == "":
		return fmt.Errorf("twilio public URL %q: no host", publicURL)
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(publicURL, "?"):
		return fmt.Errorf("twilio public URL %q: no query or fragment allowed", publicURL)
	}
	return nil
}

// requestURI is the path and query as the client sent them: the server keeps
// the raw request target in RequestURI, which routers and http.StripPrefix
// leave alone; a client-side request (tests) has only URL.
func requestURI(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// portVariants returns signed itself and, for http and https, the same URL
// with the default port added (when it has none) or removed (when it has the
// default). Only the authority is touched, so the path and query stay
// byte-identical.
func portVariants(signed string, u *url.URL) []string {
	var def string
	switch u.Scheme {
	case "https":
		def = "443"
	case "http":
		def = "80"
	default:
		return []string{signed}
	}
	start := len(u.Scheme) + len("://")
	end := len(signed)
	if i := strings.IndexAny(signed[start:], "/?#"); i >= 0 {
		end = start + i
	}
	authority := signed[start:end]
	switch u.Port() {
	case "":
		return []string{signed, signed[:start] + authority + ":" + def + signed[end:]}
	case def:
		return []string{signed, signed[:start] + strings.TrimSuffix(authority, ":"+def) + signed[end:]}
	}
	return []string{signed}
}
