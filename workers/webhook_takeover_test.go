package workers_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"goodplan/eventstore"
	"goodplan/eventstore/pgtest"
	"goodplan/workers"
)

// cutDialer dials PostgreSQL for one simulated process. cut closes every
// connection it made and refuses new ones until restore: PostgreSQL sees
// the process's sessions end at once, as after a SIGKILL (or a network
// loss), while the process itself goes on.
type cutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

var errCut = errors.New("cut from PostgreSQL")

func (c *cutDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		conn.Close()
		return nil, errCut
	}
	c.conns = append(c.conns, conn)
	return conn, nil
}

func (c *cutDialer) cutOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = true
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *cutDialer) restore() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut = false
}

// procStore is a store with a pool of its own on url (a process of its
// own: its own lock session), dialling through d when d is not nil.
func procStore(t *testing.T, url string, d *cutDialer) *eventstore.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if d != nil {
		cfg.ConnConfig.DialFunc = d.dial
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return eventstore.New(pool)
}

// ownerLocks counts the sessions holding owner's lock.
func ownerLocks(t *testing.T, s *eventstore.Store, owner uuid.UUID) int {
	t.Helper()
	return whCount(t, s.Pool(), `SELECT count(*) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`, eventstore.OwnerLockName(owner))
}

// takeovers returns the deliverer's goodplan_webhook_takeovers_total.
func takeovers(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "goodplan_webhook_takeovers_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("no goodplan_webhook_takeovers_total")
	return 0
}

func metricsOn(t *testing.T) (*workers.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := workers.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// takeoverEnv is an account and a receiver on a database of its own, whose
// first request to /slow hangs until release is closed (or the request is
// cut off); every other request is answered 200.
type takeoverEnv struct {
	*whEnv
	url     string
	arrived chan struct{} // closed when /slow's first request arrives
	release chan struct{}
}

func newTakeoverEnv(t *testing.T) *takeoverEnv {
	t.Helper()
	url := pgtest.NewDatabase(t)
	store := procStore(t, url, nil)
	a, err := store.CreateAccount(context.Background(), eventstore.NewAccount{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	e := &takeoverEnv{url: url, arrived: make(chan struct{}), release: make(chan struct{})}
	e.whEnv = &whEnv{store: store, acct: a.ID, recv: newWhReceiver(t, func(path string, n int, w http.ResponseWriter, r *http.Request) {
		if path == "/slow" && n == 1 {
			close(e.arrived)
			select {
			case <-e.release:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})}
	return e
}

func (e *takeoverEnv) waitArrived(t *testing.T) {
	t.Helper()
	pgtest.WaitFor(t, time.Minute, "the first request to /slow", func() bool {
		select {
		case <-e.arrived:
			return true
		default:
			return false
		}
	})
}

// claimedBy returns the owner of delivery id's claim (uuid.Nil: none).
func (e *takeoverEnv) claimedBy(t *testing.T, id uuid.UUID, endpoint int64) uuid.UUID {
	t.Helper()
	var owner *uuid.UUID
	if err := e.store.Pool().QueryRow(context.Background(), `SELECT claimed_by FROM webhook_deliveries
		WHERE event_id = $1 AND endpoint_id = $2`, id, endpoint).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if owner == nil {
		return uuid.Nil
	}
	return *owner
}

// A deliverer that dies with a delivery in flight (its PostgreSQL sessions
// end at once, as after a SIGKILL) has it taken over and sent by another
// deliverer once its lock has been missing for the grace. The claim's
// lease is an hour, so only the takeover can explain the second send.
// The receiver sees the delivery twice: once from the dead deliverer,
// which sent it, and once from the one that took it over.
func TestWebhookDeadOwnersDeliveryTakenOver(t *testing.T) {
	t.Parallel()
	env := newTakeoverEnv(t)
	ep := env.endpoint(t, "/slow")
	event := env.enqueue(t, ep.ID)

	var dialer cutDialer
	dying := env.deliverer()
	dying.Store, dying.Owner, dying.Lease = procStore(t, env.url, &dialer), uuid.New(), time.Hour
	dying.Client.Timeout = 10 * time.Minute // hangs until the test ends
	whRun(t, dying)
	env.waitArrived(t)
	if got := env.claimedBy(t, event, ep.ID); got != dying.Owner {
		t.Fatalf("claimed by %s, want the dying deliverer %s", got, dying.Owner)
	}

	metrics, reg := metricsOn(t)
	taker := env.deliverer()
	taker.Store, taker.Metrics = procStore(t, env.url, nil), metrics
	whRun(t, taker)

	dialer.cutOff()
	killed := time.Now()
	pgtest.WaitFor(t, 2*time.Minute, "the delivery sent again by the other deliverer", func() bool {
		return len(env.recv.got("/slow")) >= 2
	})
	t.Logf("sent again %v after the kill (grace %v)", time.Since(killed).Round(100*time.Millisecond), workers.DefaultWebhookGrace)
	pgtest.WaitFor(t, time.Minute, "the delivery recorded as succeeded", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE state = 'succeeded'`) == 1
	})
	if n := takeovers(t, reg); n != 1 {
		t.Fatalf("goodplan_webhook_takeovers_total %v, want 1", n)
	}
	if n := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
		WHERE d.event_id = $1 AND a.attempt = 1 AND a.status_code = 200`, event); n != 1 {
		t.Fatalf("%d attempts logged, want the taker's one", n)
	}
	hits := env.recv.got("/slow")
	if len(hits) != 2 || hits[0].id != hits[1].id {
		t.Fatalf("%d requests received, want 2 with one webhook-id", len(hits))
	}
}

// A live deliverer whose receiver is slow (it answers well within the
// timeout, after the others' grace) keeps its claim: the delivery is sent
// exactly once. The control: a claim whose owner holds no lock, made at
// the same time, is taken over meanwhile (by either deliverer: both
// sweep), so the deliverers have looked at both owners for longer than
// the grace.
func TestWebhookSlowLiveOwnerNotTakenOver(t *testing.T) {
	t.Parallel()
	env := newTakeoverEnv(t)
	slow, deadEP := env.endpoint(t, "/slow"), env.endpoint(t, "/dead")
	env.enqueue(t, deadEP.ID)
	dead := uuid.New()
	ctx := context.Background()
	if c, err := env.store.ClaimDue(ctx, 1, time.Now(), time.Hour, eventstore.ClaimOptions{Owner: dead}); err != nil || len(c) != 1 {
		t.Fatalf("claim as a dead owner: %+v %v", c, err)
	}
	event := env.enqueue(t, slow.ID)

	const grace = time.Second
	metrics, reg := metricsOn(t) // both deliverers'
	owner := env.deliverer()
	owner.Store, owner.Owner, owner.Grace, owner.Metrics = procStore(t, env.url, nil), uuid.New(), grace, metrics
	owner.Client.Timeout = 2 * time.Minute
	whRun(t, owner)
	env.waitArrived(t)

	other := env.deliverer()
	other.Store, other.Metrics, other.Grace = procStore(t, env.url, nil), metrics, grace
	whRun(t, other)
	pgtest.WaitFor(t, 2*time.Minute, "the dead owner's claim taken over and sent", func() bool {
		return len(env.recv.got("/dead")) == 1
	})
	if got := env.claimedBy(t, event, slow.ID); got != owner.Owner {
		t.Fatalf("the slow delivery is claimed by %s, want its live owner %s", got, owner.Owner)
	}
	close(env.release)
	pgtest.WaitFor(t, time.Minute, "both deliveries recorded as succeeded", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE state = 'succeeded'`) == 2
	})
	if n := len(env.recv.got("/slow")); n != 1 {
		t.Fatalf("the slow delivery was sent %d times, want 1", n)
	}
	if n := takeovers(t, reg); n != 1 {
		t.Fatalf("goodplan_webhook_takeovers_total %v, want 1 (the dead owner's)", n)
	}
}

// A live deliverer that loses PostgreSQL for less than the grace keeps
// its claims: here every session of the database is ended, as a
// PostgreSQL restart ends them, and the owner cannot reconnect until the
// other deliverer (back first) has seen its lock missing. The owner then
// takes its lock again within the grace; nothing is taken over, the
// delivery in flight is recorded, and the one it claimed before the loss
// and had not sent yet is confirmed with the database and sent: each
// delivery exactly once.
func TestWebhookOwnerKeepsClaimsAcrossAConnectionLoss(t *testing.T) {
	t.Parallel()
	const grace = 15 * time.Second // the owner's reconnection must fit in it
	sc := newOwnerScene(t, grace)
	env, ep, first, second, owner, dialer, reg := sc.env, sc.ep, sc.first, sc.second, sc.owner, sc.dialer, sc.reg

	dialer.cutOff()
	if _, err := env.store.Pool().Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitFor(t, time.Minute, "the other deliverer to see the owner's lock missing", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_owner_absences WHERE owner = $1`, owner.Owner) == 1
	})
	dialer.restore()
	pgtest.WaitFor(t, time.Minute, "the owner's lock taken again and seen", func() bool {
		return ownerLocks(t, env.store, owner.Owner) == 1 &&
			whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_owner_absences`) == 0
	})
	if env.claimedBy(t, first, ep.ID) != owner.Owner || env.claimedBy(t, second, ep.ID) != owner.Owner {
		t.Fatal("the owner lost its claims")
	}
	close(env.release)
	pgtest.WaitFor(t, time.Minute, "both deliveries recorded as succeeded", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE state = 'succeeded'`) == 2
	})
	hits := env.recv.got("/slow")
	if len(hits) != 2 || hits[0].id == hits[1].id {
		t.Fatalf("%d requests received, want 2: each delivery once", len(hits))
	}
	if n := takeovers(t, reg); n != 0 {
		t.Fatalf("goodplan_webhook_takeovers_total %v, want 0", n)
	}
	if n := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_attempts`); n != 2 {
		t.Fatalf("%d attempts logged, want 2", n)
	}
}

// A live deliverer cut from PostgreSQL for longer than the grace has its
// claims taken over; once back, it never sends one it lost: the delivery
// it had claimed but not started is confirmed with the database, found
// taken, and dropped, so the receiver gets it once (from the taker). The
// one it had in flight at the loss is sent twice (it was under way), and
// its late outcome is logged without changing the delivery.
func TestWebhookOwnerNeverSendsAClaimItLost(t *testing.T) {
	t.Parallel()
	sc := newOwnerScene(t, time.Second)
	env, first, second, owner, dialer, reg, stopOwner := sc.env, sc.first, sc.second, sc.owner, sc.dialer, sc.reg, sc.stopOwner
	dialer.cutOff()
	pgtest.WaitFor(t, 2*time.Minute, "both deliveries taken over and recorded", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE state = 'succeeded'`) == 2
	})
	if n := takeovers(t, reg); n != 2 {
		t.Fatalf("goodplan_webhook_takeovers_total %v, want 2", n)
	}
	dialer.restore()
	pgtest.WaitFor(t, time.Minute, "the owner's lock taken again", func() bool {
		return ownerLocks(t, env.store, owner.Owner) == 1
	})
	close(env.release)
	pgtest.WaitFor(t, time.Minute, "the owner's late outcome of the first logged", func() bool {
		return whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
			WHERE d.event_id = $1`, first) == 2
	})
	stopOwner() // Run returns once its senders are done: the second was either sent or dropped
	byID := map[string]int{}
	for _, h := range env.recv.got("/slow") {
		byID[h.id]++
	}
	if n := byID[workers.WebhookMessageID(first)]; n != 2 {
		t.Errorf("the first delivery was received %d times, want 2 (in flight at the loss, then the taker's)", n)
	}
	if n := byID[workers.WebhookMessageID(second)]; n != 1 {
		t.Errorf("the second delivery was received %d times, want 1 (the taker's)", n)
	}
	if n := whCount(t, env.store.Pool(), `SELECT count(*) FROM webhook_deliveries WHERE state = 'succeeded' AND attempts = 1`); n != 2 {
		t.Errorf("%d deliveries succeeded at their first attempt, want 2", n)
	}
}

// ownerScene is two deliveries to one hanging endpoint, both claimed by an
// owner whose connections can be cut (dialer), the second waiting behind
// the first, and another deliverer with metrics (reg) watching for its
// lock to go missing for grace.
type ownerScene struct {
	env           *takeoverEnv
	ep            eventstore.WebhookEndpoint
	first, second uuid.UUID
	owner         *workers.WebhookDeliverer
	dialer        *cutDialer
	reg           *prometheus.Registry
	stopOwner     func()
}

func newOwnerScene(t *testing.T, grace time.Duration) ownerScene {
	t.Helper()
	sc := ownerScene{env: newTakeoverEnv(t), dialer: &cutDialer{}}
	sc.ep = sc.env.endpoint(t, "/slow")
	sc.first, sc.second = sc.env.enqueue(t, sc.ep.ID), sc.env.enqueue(t, sc.ep.ID)
	sc.owner = sc.env.deliverer()
	sc.owner.Store, sc.owner.Owner, sc.owner.Grace = procStore(t, sc.env.url, sc.dialer), uuid.New(), grace
	sc.owner.Client.Timeout = 10 * time.Minute
	sc.owner.PerEndpoint, sc.owner.StallAfter = 1, -1 // the second waits behind the first
	sc.stopOwner = whRun(t, sc.owner)
	sc.env.waitArrived(t)
	pgtest.WaitFor(t, time.Minute, "both deliveries claimed by the owner", func() bool {
		return sc.env.claimedBy(t, sc.first, sc.ep.ID) == sc.owner.Owner && sc.env.claimedBy(t, sc.second, sc.ep.ID) == sc.owner.Owner
	})
	var metrics *workers.Metrics
	metrics, sc.reg = metricsOn(t)
	other := sc.env.deliverer()
	other.Store, other.Metrics, other.Grace = procStore(t, sc.env.url, nil), metrics, grace
	whRun(t, other)
	return sc
}
