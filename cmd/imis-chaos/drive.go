package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fault is one failure the run caused.
type fault struct {
	name     string
	at       time.Time // when it struck
	restored time.Time // when the run undid it (started the process again)
	// cutsAnswers: requests in flight or sent meanwhile get no answer (a
	// gateway instance is down), which the callers' retries cover.
	cutsAnswers bool
}

// drive runs the traffic for cfg.duration with the faults at 15%, 45% and
// 75% of it, lets the SMS queues drain, and checks the invariants.
func drive(ctx context.Context, cfg config, env *environment, say func(string, ...any)) (*report, error) {
	rec := &recorder{}
	tr := newTraffic(cfg, []string{env.gateways[0].baseURL(), env.gateways[1].baseURL()}, rec)
	trafficCtx, stopTraffic := context.WithTimeout(ctx, cfg.duration)
	defer stopTraffic()
	seed := uint64(time.Now().UnixNano())
	var callers sync.WaitGroup
	for i := range cfg.ussdClients {
		callers.Go(func() { tr.runUSSD(trafficCtx, rand.New(rand.NewPCG(seed, uint64(i)))) })
	}
	for i := range cfg.smsClients {
		callers.Go(func() { tr.runSMS(trafficCtx, rand.New(rand.NewPCG(seed, uint64(1000+i)))) })
	}
	start := time.Now()
	say("traffic for %s: %d USSD callers, %d SMS senders, on %s and %s", cfg.duration, cfg.ussdClients, cfg.smsClients,
		tr.instances[0], tr.instances[1])

	var faults []fault
	if !cfg.faultsDisabled {
		for _, f := range []struct {
			share float64
			do    func(context.Context) (fault, error)
		}{
			{0.15, func(ctx context.Context) (fault, error) { return killRedisMaster(ctx, env, say) }},
			{0.45, func(ctx context.Context) (fault, error) { return stopPostgres(ctx, env, say) }},
			{0.75, func(ctx context.Context) (fault, error) { return killGateway(ctx, env, say) }},
		} {
			if !sleep(trafficCtx, time.Until(start.Add(time.Duration(f.share*float64(cfg.duration))))) {
				break
			}
			fl, err := f.do(ctx)
			if err != nil {
				stopTraffic()
				callers.Wait()
				return nil, err
			}
			faults = append(faults, fl)
		}
	}
	<-trafficCtx.Done()
	callers.Wait()
	end := time.Now()
	say("traffic over; waiting up to %s for the inbound SMS and the outbox to drain (longer for an SMS leased by the killed instance)", cfg.settle)
	drained := waitForQueues(ctx, env, cfg.settle)

	// The API's log first: every message in it then has its outbox row
	// among the facts, unless the database lost it.
	sent := env.smsAPI.log()
	facts, err := readFacts(ctx, env.db)
	if err != nil {
		return nil, err
	}
	facts.sent = sent
	rep := check(checkInput{
		hops: rec.hops, sessions: rec.sessions, renewals: rec.renewals, sms: rec.sms, screens: rec.screens,
		faults: faults, start: start, end: end, deadline: cfg.deadline, hopDeadline: cfg.hopDeadline,
		facts: facts, drained: drained,
	})
	return rep, nil
}

// killRedisMaster SIGKILLs the Sentinel group's master; the Sentinels
// promote the replica. The old master is started again 10 s later and
// rejoins as a replica.
func killRedisMaster(ctx context.Context, env *environment, say func(string, ...any)) (fault, error) {
	out, err := env.script(ctx, "redis-ha.sh", "kill-master", "sentinel")
	if err != nil {
		return fault{}, err
	}
	f := fault{name: "Redis master SIGKILL (Sentinel failover)", at: time.Now()}
	port := strings.TrimSpace(out)
	say("fault: killed the Redis master on :%s", port)
	if !sleep(ctx, 10*time.Second) {
		return f, ctx.Err()
	}
	if _, err := env.script(ctx, "redis-ha.sh", "restart", port); err != nil {
		return f, err
	}
	f.restored = time.Now()
	say("restarted the old Redis master on :%s (a replica now)", port)
	return f, nil
}

// stopPostgres stops PostgreSQL as pg_ctl stop -m immediate does (SIGQUIT
// to the postmaster: no checkpoint, connections cut) and starts it again
// 5 s later; it recovers from its WAL.
func stopPostgres(ctx context.Context, env *environment, say func(string, ...any)) (fault, error) {
	pid, err := env.postmasterPID(ctx)
	if err != nil {
		return fault{}, err
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		return fault{}, fmt.Errorf("stop PostgreSQL (pid %d): %w", pid, err)
	}
	f := fault{name: "PostgreSQL immediate stop, started 5 s later", at: time.Now()}
	say("fault: stopped PostgreSQL (pid %d) in immediate mode", pid)
	for syscall.Kill(pid, 0) == nil && sleep(ctx, 100*time.Millisecond) {
	}
	if !sleep(ctx, time.Until(f.at.Add(5*time.Second))) {
		return f, ctx.Err()
	}
	if _, err := env.script(ctx, "services.sh", "up"); err != nil {
		return f, err
	}
	f.restored = time.Now()
	say("PostgreSQL is up again")
	return f, nil
}

// killGateway SIGKILLs the second gateway instance and starts it again 3 s
// later.
func killGateway(ctx context.Context, env *environment, say func(string, ...any)) (fault, error) {
	g := env.gateways[1]
	g.kill()
	f := fault{name: g.name + " SIGKILL, started 3 s later", at: time.Now(), cutsAnswers: true}
	say("fault: killed %s", g.name)
	if !sleep(ctx, 3*time.Second) {
		return f, ctx.Err()
	}
	if err := g.start(ctx); err != nil {
		return f, err
	}
	f.restored = time.Now()
	say("%s is serving again", g.name)
	return f, nil
}

// outboxSendBound is longer than the outbox worker takes over one send (15 s).
const outboxSendBound = 20 * time.Second

// waitForQueues waits until no inbound SMS waits and no outbox message is
// queued or being sent, or until settle has passed; false then. An inbound
// SMS leased by a killed instance waits for its lease to end (5 minutes,
// docs/design.md, "Inbound SMS"), so the wait extends to the latest lease
// end. A message left "sending" by a killed instance is not waited for: it
// turns "unknown" after two minutes and is never sent again (docs/design.md,
// "Message states").
func waitForQueues(ctx context.Context, env *environment, settle time.Duration) bool {
	deadline := time.Now().Add(settle)
	for {
		var waiting int
		var leasedUntil *time.Time
		err := env.db.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM imis_gateway.inbound_sms WHERE status = 'received') +
			(SELECT count(*) FROM imis_gateway.outbox
			 WHERE status = 'queued' OR status = 'sending' AND updated_at > now() - $1::interval),
			(SELECT max(claimed_until) FROM imis_gateway.inbound_sms WHERE status = 'received')`,
			outboxSendBound.String()).Scan(&waiting, &leasedUntil)
		if err == nil && waiting == 0 {
			return true
		}
		if leasedUntil != nil && leasedUntil.Add(outboxSendBound).After(deadline) {
			deadline = leasedUntil.Add(outboxSendBound)
		}
		if time.Now().After(deadline) || !sleep(ctx, 500*time.Millisecond) {
			return false
		}
	}
}
