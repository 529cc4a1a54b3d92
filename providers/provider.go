package providers

import "net/http"

// Provider is one aggregator as the rest of the gateway sees it: its names,
// the callbacks it makes and how to read and answer them, its settings, and
// the aggregator's side of its wire for the simulators. Each provider package
// (providers/<name>) declares its own, and providers/registry lists them; no
// other code names a provider.
type Provider struct {
	// Name identifies it in callback paths, USSD_PROVIDERS, hops, the SMS
	// tables and metrics labels: lower case, and never renamed.
	Name string
	// EnvPrefix starts the names of its variables: "AT_" gives
	// AT_CALLBACK_TOKEN, AT_ALLOW_FROM, AT_SERVICE_CODE, AT_SCREEN_BUDGET.
	EnvPrefix string
	// Title names it for people, in help texts: "Africa's Talking".
	Title string
	USSD  *USSD // nil: it carries no USSD
	SMS   *SMS  // nil: it carries no SMS
}

// USSDPath is where the USSD callbacks of the provider named name arrive, for
// token: what an implementer sets in the aggregator's dashboard. Its
// USSD.Routes hang below it.
func USSDPath(name, token string) string { return "/ussd/" + name + "/" + token }

// SMSPath is where its SMS callbacks arrive; its SMS.Routes hang below it.
func SMSPath(name, token string) string { return "/sms/" + name + "/" + token }

// RouteKind is what a callback does. The gateway supplies the handler of
// each kind; a provider only says which of its routes is which.
type RouteKind int

const (
	// RouteHop is a USSD hop: USSD.Parse, the menus, then USSD.Render.
	RouteHop RouteKind = iota + 1
	// RouteSessionEnd is a notification that a session ended (USSD.ParseEnd):
	// the gateway forgets the session, writes nothing, and answers 200 "OK".
	RouteSessionEnd
	// RouteSessionStatus asks whether the gateway still holds a session
	// (USSD.StatusSession), answered with USSD.StatusBody.
	RouteSessionStatus
	// RouteInboundSMS is an SMS a subscriber sent (SMS.ParseInbound): the
	// gateway records it and answers 200, with SMS.InboundAck when set.
	RouteInboundSMS
	// RouteDeliveryReport is a report on an SMS the gateway sent
	// (SMS.ParseDelivery).
	RouteDeliveryReport
)

// HTTPRoute is one callback a provider makes: an HTTP method and a chi
// pattern below its USSDPath or SMSPath ("/", "/events",
// "/session/{session}/status"). Parsers read the pattern's parameters with
// r.PathValue.
type HTTPRoute struct {
	Method  string
	Pattern string
	Kind    RouteKind
}

// USSD is how a provider speaks USSD.
type USSD struct {
	// Routes are its USSD callbacks: at least one RouteHop, and the
	// RouteSessionEnd and RouteSessionStatus its wire has.
	Routes []HTTPRoute
	// Parse reads a hop. A request that cannot come from the aggregator
	// returns an error wrapping ErrMalformed (400); a body cut short by
	// http.MaxBytesReader one in which errors.As finds the
	// *http.MaxBytesError (413).
	Parse func(*http.Request) (Hop, error)
	// Render makes the exact bytes that answer hop with a reply; the
	// gateway stores them to replay a retried hop byte for byte.
	Render func(Hop, Reply) []byte
	// ContentType is that of Render's and StatusBody's bytes.
	ContentType string
	// ParseEnd reads an end-of-session notification (RouteSessionEnd). Its
	// errors are as Parse's.
	ParseEnd func(*http.Request) (SessionEnd, error)
	// StatusSession is the session a RouteSessionStatus request asks about,
	// and StatusBody the answer: whether the gateway still holds it.
	StatusSession func(*http.Request) string
	StatusBody    func(active bool) []byte
	// Budget is the longest screen the aggregator carries when stricter than
	// the menus' default (160 GSM-7 or 70 UCS-2 characters); zero otherwise.
	// <PREFIX>SCREEN_BUDGET overrides it.
	Budget Budget
	// NeedsServiceCode is set when the wire does not carry the code dialled:
	// <PREFIX>SERVICE_CODE then supplies it, without which pre-dialled routes
	// are ignored.
	NeedsServiceCode bool
	// CallbackNote, when set, follows the callback URL in serve's banner,
	// e.g. "(events: <url>/events)".
	CallbackNote func(url string) string
	// TryHop, when set, is a shell command that sends one hop to url, for
	// serve's banner.
	TryHop func(url string) string
	// Client is the aggregator's side of the wire.
	Client Client
}

// Budget is a screen's length limit, in characters of each encoding.
type Budget struct{ GSM7, UCS2 int }

// SessionEnd is an aggregator's notification that a session ended. It only
// informs: the gateway forgets the session and logs the rest.
type SessionEnd struct {
	SessionID string
	Phone     string // as sent; logged masked
	Status    string // the aggregator's word for how it ended ("Success", ...)
	Hops      int    // as the aggregator counted them; 0 when unknown
	Error     string // the aggregator's error message, if any
}

// Client is the aggregator's side of a USSD wire, for the terminal and
// browser simulators and the end-to-end tests: the requests it sends for one
// subscriber, and how it reads the answers.
type Client struct {
	// Hop builds the request carrying c's input: a dial when c.Start.
	Hop func(c Call) (Request, error)
	// Hangup builds the wire's end-of-session signal; nil when it has none.
	Hangup func(c Call) (Request, error)
	// Read reads the gateway's answer to a hop.
	Read func(body []byte) (Reply, error)
}

// Call is where a simulated subscriber stands when a request is built.
type Call struct {
	URL         string // the provider's USSD callback URL, token included
	Session     string
	MSISDN      string // E.164: "+255712111222"
	ServiceCode string // as dialled: "*384*1234#"
	// Seq numbers the session's requests, 1 for the dial; a hang-up takes
	// the number after the last hop's.
	Seq   int
	Start bool // the request dials
	// Input is, on a dial, the whole string dialled ("*384*1234*1*48213#"),
	// else the newest input.
	Input string
	// Transcript is every input of the session joined with '*', a
	// pre-dialled route first: what accumulated wires send.
	Transcript string
}

// Request is an HTTP request a Client makes, kept whole so that it can be
// sent again byte for byte, as an aggregator retries.
type Request struct {
	Method, URL, ContentType string
	Body                     []byte
}

// SMS is how a provider speaks SMS: the callbacks it makes, and its sending.
type SMS struct {
	// Routes are its SMS callbacks: RouteInboundSMS and RouteDeliveryReport.
	Routes []HTTPRoute
	// ParseInbound and ParseDelivery read them; errors are as USSD.Parse's.
	ParseInbound  func(*http.Request) (InboundSMS, error)
	ParseDelivery func(*http.Request) (DeliveryReport, error)
	// InboundAck, when set, answers an inbound message once it is recorded,
	// instead of 200 "OK".
	InboundAck func(http.ResponseWriter)
	// Settings reads its settings with getenv. devToken is the callback
	// token to use when none is set (--dev), empty otherwise. It returns
	// problems with the settings, each a line naming the variable.
	Settings func(getenv func(string) string, devToken string) (SMSSettings, []string)
	// Help lists its variables for serve --help: name, then meaning.
	Help [][2]string
}

// SMSSettings are what a provider's SMS settings make.
type SMSSettings struct {
	// Sender sends its SMS; nil when it sends none.
	Sender Sender
	// Warning, when set, is said once at start: sending lacks a setting, and
	// messages wait in the outbox until it is set.
	Warning string
	// Callbacks, when set, enables its SMS callbacks on their own settings.
	// A provider that also carries USSD serves them with its USSD callbacks
	// instead (USSD_PROVIDERS, <PREFIX>CALLBACK_TOKEN, <PREFIX>ALLOW_FROM).
	Callbacks *Callbacks
}

// Callbacks are the settings of an SMS-only provider's callbacks.
type Callbacks struct {
	Token     string     // the secret path segment of every callback
	Signature *Signature // nil: the token alone authenticates them
}

// Signature authenticates a provider's callbacks beyond their token: the
// aggregator signs each request (Twilio's X-Twilio-Signature).
type Signature struct {
	// Check returns nil for a genuine request. Its errors say what failed,
	// never the request's parameters; one in which errors.As finds an
	// *http.MaxBytesError means the body was too large to check. It reads
	// the body and puts it back.
	Check func(*http.Request) error
	// Problem, when set, is why no request can pass (a setting missing or
	// malformed): said once at start.
	Problem error
	// Hint tells an operator what to check when requests are refused.
	Hint string
}
