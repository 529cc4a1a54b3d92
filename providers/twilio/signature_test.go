package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	pt "github.com/openimis/imis-gateway/providers/internal/providertest"
)

// pair is one form parameter in the order it is sent.
type pair struct{ name, value string }

// refSign is an independent reading of Twilio's algorithm, written from the
// docs rather than from Sign: the URL, then the parameters sorted by name
// (stable, so a repeated name keeps its received order), each as name then
// value; HMAC-SHA1; base64.
func refSign(token, fullURL string, params []pair) string {
	sorted := append([]pair(nil), params...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	s := fullURL
	for _, p := range sorted {
		s += p.name + p.value
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// encode writes params as a form body in the given order.
func encode(params []pair) string {
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = formEscape(p.name) + "=" + formEscape(p.value)
	}
	return strings.Join(parts, "&")
}

func formEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

// The example in Twilio's webhook security docs.
var docParams = []pair{
	{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+12349013030"}, {"Digits", "1234"},
	{"From", "+12349013030"}, {"To", "+18005551212"},
}

const docSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

var smsParams = []pair{
	{"ToCountry", "US"}, {"SmsMessageSid", messageSID}, {"NumMedia", "0"}, {"SmsSid", messageSID},
	{"SmsStatus", "received"}, {"Body", "RENEW 12345678 20000 RC/42"}, {"FromCountry", "TZ"},
	{"To", "+14155550100"}, {"NumSegments", "1"}, {"MessageSid", messageSID},
	{"AccountSid", accountSID}, {"From", "+255712345678"}, {"ApiVersion", "2010-04-01"},
}

const (
	token  = "f4e1b7c9d2a3e8f0b5c6d7e8f9a0b1c2"
	public = "https://gw.example.org"
	path   = "/sms/twilio/s3cr3t/inbound"
)

// signedRequest is a webhook as Twilio sends it: signed over signedURL, sent
// to target (what the gateway's listener sees).
func signedRequest(method, target, signedURL string, params []pair) *http.Request {
	r := pt.NewRequest(method, target, formCT, encode(params), 0)
	r.Header.Set(SignatureHeader, refSign(token, signedURL, params))
	return r
}

func TestSignDocumentedVector(t *testing.T) {
	if got := refSign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", docParams); got != docSignature {
		t.Fatalf("reference implementation %q, want Twilio's %q", got, docSignature)
	}
	params := map[string][]string{}
	for _, p := range docParams {
		params[p.name] = append(params[p.name], p.value)
	}
	if got := Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params); got != docSignature {
		t.Errorf("Sign %q, want %q", got, docSignature)
	}
	r := pt.NewRequest(http.MethodPost, "/myapp.php?foo=1&bar=2", formCT, encode(docParams), 0)
	r.Header.Set(SignatureHeader, docSignature)
	if err := ValidateSignature("12345", "https://mycompany.com", r); err != nil {
		t.Errorf("documented request: %v", err)
	}
}

func TestValidateSignature(t *testing.T) {
	tampered := append([]pair(nil), smsParams...)
	tampered[5].value = "RENEW 12345678 200000 RC/42"

	for _, tc := range []struct {
		label  string
		req    func() *http.Request
		token  string
		public string
		ok     bool
	}{
		{
			label: "valid",
			req:   func() *http.Request { return signedRequest("POST", path, public+path, smsParams) },
			ok:    true,
		},
		{
			label:  "public URL with a trailing slash",
			req:    func() *http.Request { return signedRequest("POST", path, public+path, smsParams) },
			public: public + "/",
			ok:     true,
		},
		{
			label: "behind a TLS proxy: arrives as plain http on an internal address",
			req: func() *http.Request {
				r := signedRequest("POST", "http://10.0.0.5:8080"+path, public+path, smsParams)
				r.Header.Set("X-Forwarded-Proto", "https")
				r.Header.Set("X-Forwarded-Host", "gw.example.org")
				return r
			},
			ok: true,
		},
		{
			label: "behind a TLS proxy, validated against the internal URL instead",
			req: func() *http.Request {
				return signedRequest("POST", "http://10.0.0.5:8080"+path, public+path, smsParams)
			},
			public: "http://10.0.0.5:8080",
			ok:     false,
		},
		{
			label:  "proxy strips a path prefix",
			req:    func() *http.Request { return signedRequest("POST", path, public+"/imis"+path, smsParams) },
			public: public + "/imis",
			ok:     true,
		},
		{
			label: "query string is signed",
			req:   func() *http.Request { return signedRequest("POST", path+"?lang=sw", public+path+"?lang=sw", smsParams) },
			ok:    true,
		},
		{
			label: "query string left out of the signed URL",
			req:   func() *http.Request { return signedRequest("POST", path+"?lang=sw", public+path, smsParams) },
			ok:    false,
		},
		{
			label: "Twilio signed with the default port",
			req:   func() *http.Request { return signedRequest("POST", path, "https://gw.example.org:443"+path, smsParams) },
			ok:    true,
		},
		{
			label:  "configured with the default port, Twilio signed without",
			req:    func() *http.Request { return signedRequest("POST", path, public+path, smsParams) },
			public: "https://gw.example.org:443",
			ok:     true,
		},
		{
			label: "another port is another URL",
			req: func() *http.Request {
				return signedRequest("POST", path, "https://gw.example.org:8443"+path, smsParams)
			},
			ok: false,
		},
		{
			label: "tampered parameter",
			req: func() *http.Request {
				r := signedRequest("POST", path, public+path, smsParams)
				r.Body = pt.NewRequest("POST", path, formCT, encode(tampered), 0).Body
				return r
			},
			ok: false,
		},
		{
			label: "added parameter",
			req: func() *http.Request {
				r := signedRequest("POST", path, public+path, smsParams)
				r.Body = pt.NewRequest("POST", path, formCT, encode(append(smsParams, pair{"Extra", "1"})), 0).Body
				return r
			},
			ok: false,
		},
		{
			label: "wrong URL: another host",
			req:   func() *http.Request { return signedRequest("POST", path, "https://evil.example.com"+path, smsParams) },
			ok:    false,
		},
		{
			label: "wrong URL: http where Twilio used https",
			req:   func() *http.Request { return signedRequest("POST", path, "http://gw.example.org"+path, smsParams) },
			ok:    false,
		},
		{
			label: "wrong URL: another path (the status callback's signature)",
			req: func() *http.Request {
				return signedRequest("POST", path, public+"/sms/twilio/s3cr3t/status", smsParams)
			},
			ok: false,
		},
		{
			label: "wrong auth token",
			req:   func() *http.Request { return signedRequest("POST", path, public+path, smsParams) },
			token: "0000000000000000000000000000000",
			ok:    false,
		},
		{
			label: "missing header",
			req: func() *http.Request {
				r := signedRequest("POST", path, public+path, smsParams)
				r.Header.Del(SignatureHeader)
				return r
			},
			ok: false,
		},
		{
			label: "signature of nothing",
			req: func() *http.Request {
				r := signedRequest("POST", path, public+path, smsParams)
				r.Header.Set(SignatureHeader, "=")
				return r
			},
			ok: false,
		},
		{
			label: "repeated names keep their received order",
			req: func() *http.Request {
				return signedRequest("POST", path, public+path, append(smsParams[:len(smsParams):len(smsParams)],
					pair{"MediaUrl0", "https://a.example/1"}, pair{"Tag", "b"}, pair{"Tag", "a"}))
			},
			ok: true,
		},
		{
			label: "repeated names signed in another order",
			req: func() *http.Request {
				sent := append(smsParams[:len(smsParams):len(smsParams)], pair{"Tag", "b"}, pair{"Tag", "a"})
				r := signedRequest("POST", path, public+path, sent)
				swapped := append(smsParams[:len(smsParams):len(smsParams)], pair{"Tag", "a"}, pair{"Tag", "b"})
				r.Header.Set(SignatureHeader, refSign(token, public+path, swapped))
				return r
			},
			ok: false,
		},
		{
			label: "GET signs the URL alone",
			req: func() *http.Request {
				q := "?" + encode(docParams)
				r := pt.NewRequest("GET", path+q, "", "", 0)
				r.Header.Set(SignatureHeader, refSign(token, public+path+q, nil))
				return r
			},
			ok: true,
		},
		{
			label: "empty auth token fails closed",
			req:   func() *http.Request { return signedRequest("POST", path, public+path, smsParams) },
			token: "-",
			ok:    false,
		},
	} {
		t.Run(tc.label, func(t *testing.T) {
			tok, pub := token, public
			if tc.token == "-" {
				tok = ""
			} else if tc.token != "" {
				tok = tc.token
			}
			if tc.public != "" {
				pub = tc.public
			}
			r := tc.req()
			err := ValidateSignature(tok, pub, r)
			if tc.ok {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				// The body is still there for the parser.
				if r.Method != http.MethodPost {
					return
				}
				if in, err := ParseInbound(r); err != nil || in.MessageID != messageSID {
					t.Errorf("ParseInbound after validation: %+v, %v", in, err)
				}
				return
			}
			if !errors.Is(err, ErrSignature) {
				t.Errorf("err %v, want ErrSignature", err)
			}
		})
	}
}

func TestValidateSignatureJSONBody(t *testing.T) {
	body := `{"event":"message.status","sid":"SM7f3c2a905b1e4d2a9c4e0d8e6b1a2f33"}`
	sum := sha256.Sum256([]byte(body))
	target := path + "?bodySHA256=" + hex.EncodeToString(sum[:])
	newReq := func(sent string) *http.Request {
		r := pt.NewRequest(http.MethodPost, target, "application/json", sent, 0)
		r.Header.Set(SignatureHeader, refSign(token, public+target, nil))
		return r
	}
	if err := ValidateSignature(token, public, newReq(body)); err != nil {
		t.Errorf("valid JSON webhook: %v", err)
	}
	if err := ValidateSignature(token, public, newReq(strings.Replace(body, "status", "statuz", 1))); !errors.Is(err, ErrSignature) ||
		!strings.Contains(err.Error(), "bodySHA256") {
		t.Errorf("tampered JSON body: %v", err)
	}
}

func TestValidateSignatureBodyLimit(t *testing.T) {
	params := append(smsParams[:len(smsParams):len(smsParams)], pair{"Padding", strings.Repeat("x", 5000)})
	r := signedRequest("POST", path, public+path, params)
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 4096)
	var tooLarge *http.MaxBytesError
	if err := ValidateSignature(token, public, r); !errors.As(err, &tooLarge) {
		t.Errorf("err %v, want *http.MaxBytesError", err)
	}
}

// A request target that does not parse is refused without quoting it: its
// path holds the callback token, and the error is logged.
func TestValidateSignatureUnparsableTarget(t *testing.T) {
	r := signedRequest("POST", path, public+path, smsParams)
	r.RequestURI = path + "/%zz"
	err := ValidateSignature(token, public, r)
	if !errors.Is(err, ErrSignature) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("err %v, want ErrSignature without the path", err)
	}
}

func TestValidPublicURL(t *testing.T) {
	for _, s := range []string{"https://gw.example.org", "https://gw.example.org/", "http://localhost:8080/imis", "https://[2001:db8::1]:8443"} {
		if err := ValidPublicURL(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "gw.example.org", "/sms", "ftp://gw.example.org", "https://", "https://gw.example.org?x=1",
		"https://gw.example.org/#frag", "https://user:pass@gw.example.org", "https://gw.example.org?", "https://gw example.org",
		"ftp://user:s3cret@gw.example.org", "https://user:s3cret@gw example.org", "https://user:s3cret@gw.example.org:x"} {
		if err := ValidPublicURL(s); err == nil {
			t.Errorf("%q accepted", s)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: the error quotes the password: %v", s, err)
		}
	}
	// A misconfigured URL is not the caller's fault: no ErrSignature.
	r := signedRequest("POST", path, public+path, smsParams)
	if err := ValidateSignature(token, "gw.example.org", r); err == nil || errors.Is(err, ErrSignature) {
		t.Errorf("bad public URL: %v", err)
	}
}
