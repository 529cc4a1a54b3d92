package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openimis/imis-gateway/policystore/demo"
	"github.com/openimis/imis-gateway/providers"
	"github.com/openimis/imis-gateway/providers/registry"
)

const (
	serviceCode = "*384*1234#"
	token       = "dev"
	// unavailableText is the screen and SMS a caller gets while a dependency is down.
	unavailableText = "temporarily unavailable"
)

// Session kinds.
const (
	kindMembership = "membership"
	kindClaims     = "claims"
	kindLanguage   = "language"
	kindRenewal    = "renewal"
	kindSMSRenew   = "sms renew"
	kindSMSCheck   = "sms check"
)

// hopOutcome is how one HTTP request to a gateway ended.
type hopOutcome int

const (
	hopOK          hopOutcome = iota // an answer that is not the outage screen
	hopUnavailable                   // "Service temporarily unavailable"
	hopRefused                       // connection refused: the instance is down (the caller is sent to the other)
	hopCut                           // the connection broke or timed out after the request was sent
	hopBadStatus                     // an HTTP status other than 200
)

func (o hopOutcome) String() string {
	return [...]string{"ok", "unavailable", "refused", "cut", "bad status"}[o]
}

// hopRecord is one request to a gateway: a USSD hop or an inbound SMS.
type hopRecord struct {
	kind     string
	instance int
	start    time.Time
	took     time.Duration
	outcome  hopOutcome
	retry    bool // a copy the aggregator sent again
}

// sessionRecord is one USSD session or SMS, as the caller lived it.
type sessionRecord struct {
	kind     string
	provider string
	start    time.Time
	end      time.Time
	result   string // resultOK, resultUnavailable, resultWrongScreen, resultAbandoned
}

const (
	resultOK          = "ok"
	resultUnavailable = "unavailable"
	resultWrongScreen = "unexpected screen"
	resultAbandoned   = "no answer"
)

// renewalAttempt is one renewal the traffic asked for.
type renewalAttempt struct {
	channel   string // USSD or SMS
	chfid     string
	receipt   string
	smsID     string // the inbound SMS id, for SMS
	confirmed bool   // USSD: the caller saw "Policy renewed"/"Already renewed"
}

// inboundSMS is one SMS the traffic sent the gateways, with its id.
type inboundSMS struct {
	id       string
	accepted bool // a gateway answered 200 to at least one copy
}

// recorder collects what the traffic saw, from every goroutine.
type recorder struct {
	mu       sync.Mutex
	hops     []hopRecord
	sessions []sessionRecord
	renewals []renewalAttempt
	sms      []inboundSMS
	screens  map[string]string // one example of each unexpected screen, by kind
}

func (r *recorder) hop(h hopRecord) {
	r.mu.Lock()
	r.hops = append(r.hops, h)
	r.mu.Unlock()
}

func (r *recorder) session(s sessionRecord, unexpected string) {
	r.mu.Lock()
	r.sessions = append(r.sessions, s)
	if unexpected != "" {
		if r.screens == nil {
			r.screens = map[string]string{}
		}
		if _, seen := r.screens[s.kind]; !seen {
			r.screens[s.kind] = unexpected
		}
	}
	r.mu.Unlock()
}

// traffic is the callers' side: USSD sessions and SMS, alternating between
// the gateway instances.
type traffic struct {
	cfg       config
	instances []string // base URLs
	rec       *recorder
	client    *http.Client
	runID     string

	nextSession atomic.Int64
	nextPhone   atomic.Int64
	nextFamily  atomic.Int64 // synthetic family to renew next
	families    int
}

func newTraffic(cfg config, instances []string, rec *recorder) *traffic {
	t := &traffic{cfg: cfg, instances: instances, rec: rec, families: cfg.families,
		runID:  fmt.Sprintf("%04d", time.Now().Unix()%10_000),
		client: &http.Client{Timeout: cfg.deadline, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	t.nextPhone.Store(rand.Int64N(5_000_000))
	return t
}

// phone is a caller's number no other session of the run has used: the
// language sessions change their phone's language, and look-ups count per
// phone.
func (t *traffic) phone() string { return fmt.Sprintf("+255744%06d", t.nextPhone.Add(1)%1_000_000) }

// nextRenewal picks a synthetic family whose policy can be renewed (seven in
// ten are active; see demo.Grow) and the officer of its village; false when
// none is left.
func (t *traffic) nextRenewal() (chfid, officer string, ok bool) {
	for {
		i := int(t.nextFamily.Add(1) - 1)
		if i >= t.families {
			return "", "", false
		}
		if i%10 < 7 {
			// Family i lives in village i (there are more villages than
			// families), and each officer has ten villages.
			return demo.ScaleNumber(demo.ScaleHead(i)), officerPhone(i / 10), true
		}
	}
}

// accumulatedWire is the USSD wire whose hops carry the whole transcript.
func accumulatedWire() providers.Provider { return smsWire() }

// lastOnlyWire is the first registered USSD wire whose hops carry only the
// newest input (and the code dialled), found by parsing its own second hop:
// a caller of such an aggregator whose session Redis lost cannot be
// recovered from the transcript.
var lastOnlyWire = sync.OnceValue(func() providers.Provider {
	for _, p := range registry.USSD() {
		if p.USSD.NeedsServiceCode {
			continue
		}
		call := providers.Call{URL: "http://127.0.0.1" + providers.USSDPath(p.Name, token), Session: "probe",
			MSISDN: "+255700000001", ServiceCode: serviceCode, Seq: 2, Input: "1", Transcript: "1"}
		req, err := p.USSD.Client.Hop(call)
		if err != nil {
			continue
		}
		httpReq, err := http.NewRequest(req.Method, req.URL, bytes.NewReader(req.Body))
		if err != nil {
			continue
		}
		httpReq.Header.Set("Content-Type", req.ContentType)
		if hop, err := p.USSD.Parse(httpReq); err == nil && !hop.Accumulated {
			return p
		}
	}
	panic("the registry has no last-only USSD wire")
})

// membershipNumbers are demo insurance numbers whose check ends on a
// coverage screen.
var membershipNumbers = []string{"101203401", "705338812", "48213", "120507718", "604120019", "20461301"}

// claimsHolder may see 101203401's claims (the family head's phone).
const claimsNumber, claimsPhone = "101203401", "+255712111222"

// step is one input of a session and a text its answer must contain ("" for
// any answer that is not the main menu or an error).
type step struct{ input, want string }

// runUSSD runs USSD callers until ctx ends.
func (t *traffic) runUSSD(ctx context.Context, r *rand.Rand) {
	for ctx.Err() == nil {
		wire := accumulatedWire()
		if r.IntN(5) < 2 {
			wire = lastOnlyWire()
		}
		switch x := r.IntN(20); {
		case x < 6:
			chfid := membershipNumbers[r.IntN(len(membershipNumbers))]
			t.ussd(ctx, r, kindMembership, wire, t.phone(), []step{{"", "Check membership"}, {"1", "Enter the insurance number"}, {chfid, "No. " + chfid}}, nil)
		case x < 9:
			t.ussd(ctx, r, kindClaims, wire, claimsPhone, []step{{"", "Claim status"}, {"2", "Enter the insurance number"}, {claimsNumber, ""}}, nil)
		case x < 11:
			t.ussd(ctx, r, kindLanguage, wire, t.phone(), []step{{"", "Language"}, {"3", "Kiswahili"}, {"1", "Language saved"}}, nil)
		default:
			chfid, officer, ok := t.nextRenewal()
			if !ok {
				t.ussd(ctx, r, kindMembership, wire, t.phone(), []step{{"", "Check membership"}, {"1", "Enter the insurance number"}, {"48213", "No. 48213"}}, nil)
				continue
			}
			a := renewalAttempt{channel: "USSD", chfid: chfid, receipt: t.receipt()}
			steps := []step{{"", "Renew policy"}, {"3", "insurance number of any family member"}, {chfid, "Enter the receipt number"},
				{a.receipt, "Enter the amount paid"}, {"1000", "Confirm the renewal"}, {"1", "renewed: "}}
			t.ussd(ctx, r, kindRenewal, wire, officer, steps, &a)
			t.rec.mu.Lock()
			t.rec.renewals = append(t.rec.renewals, a)
			t.rec.mu.Unlock()
		}
	}
}

func (t *traffic) receipt() string {
	return fmt.Sprintf("CX%s-%d", t.runID, t.nextSession.Add(1))
}

// ussd runs one session: each step's input (the first dials), its answer
// checked against the step's want. An aggregator's retry (share
// cfg.retryShare, and every confirmation of a renewal) sends the same hop
// again to the other instance. renewal, when set, learns whether the
// confirmation was shown.
func (t *traffic) ussd(ctx context.Context, r *rand.Rand, kind string, p providers.Provider, phone string, steps []step, renewal *renewalAttempt) {
	wire := p.USSD.Client
	id := t.nextSession.Add(1)
	s := sessionRecord{kind: kind, provider: p.Name, start: time.Now(), result: resultOK}
	call := providers.Call{Session: fmt.Sprintf("chaos-%s-%d", t.runID, id), MSISDN: phone, ServiceCode: serviceCode}
	instance := r.IntN(len(t.instances))
	unexpected := ""
	for i, st := range steps {
		call.Seq, call.Start, call.Input = i+1, i == 0, st.input
		if i == 0 {
			call.Input = serviceCode
		} else {
			call.Transcript = strings.TrimPrefix(call.Transcript+"*"+st.input, "*")
		}
		reply, outcome := t.hop(ctx, kind, wire, p.Name, call, &instance, false)
		if outcome == hopOK && (r.Float64() < t.cfg.retryShare || (renewal != nil && i == len(steps)-1)) {
			// The aggregator did not get the answer and sends the hop again.
			instance = 1 - instance
			if again, o := t.hop(ctx, kind, wire, p.Name, call, &instance, true); o == hopOK {
				reply = again
			}
		}
		switch {
		case outcome == hopUnavailable:
			s.result = resultUnavailable
		case outcome != hopOK:
			s.result = resultAbandoned
		case st.want != "" && !strings.Contains(reply.Text, st.want),
			st.want == "" && (strings.Contains(reply.Text, "Health insurance") || strings.Contains(reply.Text, "Invalid")):
			s.result, unexpected = resultWrongScreen, fmt.Sprintf("after %q: %q", st.input, reply.Text)
		case reply.End && i < len(steps)-1:
			s.result, unexpected = resultWrongScreen, fmt.Sprintf("ended after %q: %q", st.input, reply.Text)
		case renewal != nil && i == len(steps)-1:
			renewal.confirmed = true
		}
		if s.result != resultOK || ctx.Err() != nil {
			break
		}
		instance = 1 - instance
		sleep(ctx, t.cfg.think)
	}
	s.end = time.Now()
	t.rec.session(s, unexpected)
}

// hop sends one hop to *instance, and to the other one when that is down
// (connection refused) or the connection broke, as a load balancer and the
// aggregator's retry would; *instance is where it was answered.
func (t *traffic) hop(ctx context.Context, kind string, wire providers.Client, provider string, call providers.Call,
	instance *int, retry bool) (providers.Reply, hopOutcome) {
	var outcome hopOutcome
	for attempt := range 3 {
		call.URL = t.instances[*instance] + providers.USSDPath(provider, token)
		req, err := wire.Hop(call)
		if err != nil {
			panic(err) // the run builds only valid calls
		}
		start := time.Now()
		body, o := t.post(ctx, req.URL, req.ContentType, req.Body)
		var reply providers.Reply
		if o == hopOK {
			if reply, err = wire.Read(body); err != nil {
				o = hopBadStatus
			} else if strings.Contains(reply.Text, unavailableText) {
				o = hopUnavailable
			}
		}
		outcome = o
		t.rec.hop(hopRecord{kind: kind, instance: *instance, start: start, took: time.Since(start), outcome: o,
			retry: retry || attempt > 0})
		if o == hopOK || o == hopUnavailable || o == hopBadStatus {
			return reply, o
		}
		if ctx.Err() != nil {
			break
		}
		*instance = 1 - *instance
	}
	return providers.Reply{}, outcome
}

// post sends one request and classifies how it ended.
func (t *traffic) post(ctx context.Context, target, contentType string, body []byte) ([]byte, hopOutcome) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := t.client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, hopRefused
		}
		return nil, hopCut
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, hopCut
	}
	if resp.StatusCode != http.StatusOK {
		return answer, hopBadStatus
	}
	return answer, hopOK
}

// runSMS sends SMS until ctx ends: RENEW from an officer for a family not
// yet renewed, CHECK from a new phone. Each message is posted until a
// gateway takes it (200), as Africa's Talking retries; a share of them is
// posted again, with the same id, to the other instance.
func (t *traffic) runSMS(ctx context.Context, r *rand.Rand) {
	for ctx.Err() == nil {
		m := inboundSMS{id: fmt.Sprintf("chaos-sms-%s-%d", t.runID, t.nextSession.Add(1))}
		kind, from, text := kindSMSCheck, t.phone(), "CHECK "+membershipNumbers[r.IntN(len(membershipNumbers))]
		var renewal *renewalAttempt
		if r.IntN(2) == 0 {
			if chfid, officer, ok := t.nextRenewal(); ok {
				kind, from = kindSMSRenew, officer
				renewal = &renewalAttempt{channel: "SMS", chfid: chfid, receipt: t.receipt(), smsID: m.id}
				text = fmt.Sprintf("RENEW %s 1000 %s", chfid, renewal.receipt)
			}
		}
		s := sessionRecord{kind: kind, provider: smsWire().Name, start: time.Now(), result: resultAbandoned}
		instance := r.IntN(len(t.instances))
		for attempt := 0; ; attempt++ {
			o := t.postSMS(ctx, kind, instance, from, text, m.id, attempt > 0)
			instance = 1 - instance
			if o == hopOK {
				m.accepted, s.result = true, resultOK
				if r.Float64() < t.cfg.retryShare {
					t.postSMS(ctx, kind, instance, from, text, m.id, true)
				}
				break
			}
			if o == hopBadStatus {
				s.result = resultUnavailable // 503: the database could not record it; the provider retries
			}
			if !sleep(ctx, time.Second) {
				break
			}
		}
		s.end = time.Now()
		t.rec.session(s, "")
		t.rec.mu.Lock()
		t.rec.sms = append(t.rec.sms, m)
		if renewal != nil {
			t.rec.renewals = append(t.rec.renewals, *renewal)
		}
		t.rec.mu.Unlock()
		sleep(ctx, 5*t.cfg.think)
	}
}

// postSMS delivers an SMS to an instance's inbound SMS webhook, as the SMS
// wire does, and records the request.
func (t *traffic) postSMS(ctx context.Context, kind string, instance int, from, text, id string, retry bool) hopOutcome {
	target, form := inboundSMSRequest(t.instances[instance], from, text, id)
	start := time.Now()
	_, o := t.post(ctx, target, "application/x-www-form-urlencoded", []byte(form.Encode()))
	t.rec.hop(hopRecord{kind: kind, instance: instance, start: start, took: time.Since(start), outcome: o, retry: retry})
	return o
}

func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
