package projections

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"goodplan/eventstore"
)

// Replay without --swap writes no rebuilt table: every plan is folded and
// its row digested in Go (replay_digest.go) while the live plan_views and
// plan_week_amounts are read and digested the same way, and only the plans
// whose digests differ (or that one side lacks) are rebuilt into the
// rebuild tables and compared in SQL, as a full rebuild compares every
// plan (see recheck). When too many plans differ for that to pay (an
// empty or stale read model), the full rebuild runs instead.

// maxCandidates is how many differing plans recheck takes; more make the
// full rebuild cheaper. (A variable for the test of that path.)
var maxCandidates = 10_000

// fastResult is what compareFast found.
type fastResult struct {
	candidates []int64 // plan ids to compare in SQL, in order
	failed     map[int64]bool
	counts     []Diff // plan counts that differ (see compareCounts)
}

// digested is one rebuilt plan's digests (weeks zero when it has none).
type digested struct {
	id          int64
	row, weeks  rowDigest
	ok, hasWeek bool // ok false: not digestible, compare in SQL
}

// compareFast folds every plan stream and compares the rows with the live
// ones by digest. It appends fold failures to res.Failed and counts
// res.Events and res.Plans.
func compareFast(ctx context.Context, store *eventstore.Store, res *ReplayResult, progress *eventstore.Progress) (fastResult, error) {
	out := fastResult{failed: map[int64]bool{}}
	oids, err := columnOIDs(ctx, store)
	if err != nil {
		return out, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	m := newMatcher()
	var failMu sync.Mutex
	fail := func(stream string, err error) {
		failMu.Lock()
		defer failMu.Unlock()
		res.Failed = append(res.Failed, StreamFailure{StreamID: stream, Reason: err.Error()})
		if id, ok := eventstore.PlanIDOf(stream); ok {
			out.failed[id] = true
		}
	}

	var errMu sync.Mutex
	var firstErr error
	setErr := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil && err != nil {
			firstErr = err
			cancel()
		}
	}

	// The live side: two readers, each on its own connection.
	var readers sync.WaitGroup
	readers.Go(func() { setErr(m.readLiveRows(ctx, store)) })
	readers.Go(func() { setErr(m.readLiveWeeks(ctx, store)) })

	streams := make(chan []eventstore.StreamEvent, 256)
	var workers sync.WaitGroup
	var plans int64
	var plansMu sync.Mutex
	for range runtime.GOMAXPROCS(0) {
		workers.Go(func() {
			var buf []byte
			batch := make([]digested, 0, 256)
			n := int64(0)
			for evs := range streams {
				stream := evs[0].StreamID
				id, okID := eventstore.PlanIDOf(stream)
				if !okID {
					fail(stream, fmt.Errorf("not a plan stream id"))
					continue
				}
				row, err := foldStreamRow(len(evs), func(i int) (string, []byte, []byte, time.Time) {
					e := evs[i]
					return e.Type, e.Data, e.Metadata, e.RecordedAt
				})
				if err != nil {
					fail(stream, err)
					continue
				}
				n++
				d := digested{id: id}
				buf, d.row, d.ok = row.digest(buf[:0], oids)
				var wok bool
				buf, d.weeks, d.hasWeek, wok = row.weeksDigest(buf[:0])
				d.ok = d.ok && wok
				if batch = append(batch, d); len(batch) == cap(batch) {
					m.rebuilt(batch)
					batch = make([]digested, 0, 256)
				}
			}
			m.rebuilt(batch)
			plansMu.Lock()
			plans += n
			plansMu.Unlock()
		})
	}
	events, readErr := scanPlanStreams(ctx, store, streams, progress)
	workers.Wait()
	readers.Wait()
	res.Events, res.Plans = events, plans
	sort.Slice(res.Failed, func(i, j int) bool { return res.Failed[i].StreamID < res.Failed[j].StreamID })
	if firstErr != nil {
		return out, fmt.Errorf("replay compare: %w", firstErr)
	}
	if readErr != nil {
		return out, fmt.Errorf("replay read: %w", readErr)
	}
	out.candidates = m.candidates(out.failed)
	out.counts = m.countDiffs()
	return out, nil
}

// columnOIDs are the type oids of plan_views' columns, in columnList order.
func columnOIDs(ctx context.Context, store *eventstore.Store) ([]uint32, error) {
	rows, err := store.Pool().Query(ctx, `SELECT `+planColumns+` FROM plan_views LIMIT 0`)
	if err != nil {
		return nil, fmt.Errorf("replay: plan_views columns: %w", err)
	}
	defer rows.Close()
	var oids []uint32
	for _, f := range rows.FieldDescriptions() {
		oids = append(oids, f.DataTypeOID)
	}
	return oids, nil
}

// digest is the row's digest as its values read from PostgreSQL in
// columnList order (types oids); ok is false when a value could not be
// encoded.
func (r *planRow) digest(buf []byte, oids []uint32) ([]byte, rowDigest, bool) {
	fields := r.dest()
	if len(fields) != len(oids) {
		return buf, rowDigest{}, false
	}
	ok := true
	for i, f := range fields {
		var vok bool
		if buf, vok = appendField(buf, oids[i], f); !vok {
			ok = false
			break
		}
	}
	return buf, digestOf(buf), ok
}

// weekSum is one week's due and paid amounts of a plan, in minor units at
// scale (the display scale PostgreSQL's sum gives: the largest of its
// terms', 0 for the other half's zeros).
type weekSum struct {
	days                 int32
	due, paid            int64
	dueScale, paidScale  int32
	hasDue, hasPaid, set bool
}

// weeksDigest is the XOR of the digests of the plan's plan_week_amounts
// rows (account_id, currency, week, due, paid), computed as weekRowsOf
// does; has is false when the plan has none. ok is false when an amount
// is beyond what is summed here (the plan is then compared in SQL).
func (r *planRow) weeksDigest(buf []byte) ([]byte, rowDigest, bool, bool) {
	a := &r.Attention
	if len(a.DueOn)+len(a.PaidOn) == 0 {
		return buf, rowDigest{}, false, true
	}
	if len(a.DueOn) != len(a.DueAmount) || len(a.PaidOn) != len(a.PaidAmount) {
		return buf, rowDigest{}, false, false
	}
	var weeks []weekSum
	add := func(t time.Time, n pgtype.Numeric, paid bool) bool {
		if !n.Valid || n.Int == nil || !n.Int.IsInt64() || n.Exp > 0 || n.NaN || n.InfinityModifier != pgtype.Finite {
			return false
		}
		day := dateDays(t)
		// date_trunc('week') of a date: its Monday (2000-01-01 was a Saturday).
		monday := day - (day+5)%7
		if (day+5)%7 < 0 {
			monday = day - ((day+5)%7 + 7)
		}
		i := slices.IndexFunc(weeks, func(w weekSum) bool { return w.days == monday })
		if i < 0 {
			weeks = append(weeks, weekSum{days: monday, set: true})
			i = len(weeks) - 1
		}
		w := &weeks[i]
		v, scale := n.Int.Int64(), -n.Exp
		sum, sc, has := &w.due, &w.dueScale, &w.hasDue
		if paid {
			sum, sc, has = &w.paid, &w.paidScale, &w.hasPaid
		}
		if *has && *sc != scale {
			return false
		}
		s := new(big.Int).Add(big.NewInt(*sum), big.NewInt(v))
		if !s.IsInt64() {
			return false
		}
		*sum, *sc, *has = s.Int64(), scale, true
		return true
	}
	for i, t := range a.DueOn {
		if !add(t, a.DueAmount[i], false) {
			return buf, rowDigest{}, false, false
		}
	}
	for i, t := range a.PaidOn {
		if !add(t, a.PaidAmount[i], true) {
			return buf, rowDigest{}, false, false
		}
	}
	var d rowDigest
	for _, w := range weeks {
		buf = buf[:0]
		var ok bool
		vals := []any{r.AccountID, r.Report.Currency, pgEpoch.AddDate(0, 0, int(w.days)),
			pgtype.Numeric{Int: big.NewInt(w.due), Exp: -w.dueScale, Valid: true},
			pgtype.Numeric{Int: big.NewInt(w.paid), Exp: -w.paidScale, Valid: true}}
		for i, oid := range []uint32{oidInt8, oidText, oidDate, oidNumeric, oidNumeric} {
			if buf, ok = appendValue(buf, oid, vals[i]); !ok {
				return buf, rowDigest{}, false, false
			}
		}
		d.xor(digestOf(buf))
	}
	return buf, d, true, true
}

// matcher pairs rebuilt digests with live ones.
type matcher struct {
	mu           sync.Mutex
	rows         map[int64]sideDigest // the side that came first, until the other comes
	differ       []int64
	rebuiltWeeks map[int64]rowDigest
	liveWeeks    map[int64]rowDigest
	// plan_counts and the live rows' counts, in one snapshot.
	counted, liveCounts map[countKey]int64
}

type sideDigest struct {
	d    rowDigest
	live bool
	ok   bool
}

func newMatcher() *matcher {
	return &matcher{rows: map[int64]sideDigest{}, rebuiltWeeks: map[int64]rowDigest{}, liveWeeks: map[int64]rowDigest{}}
}

func (m *matcher) put(id int64, s sideDigest) {
	o, ok := m.rows[id]
	switch {
	case !ok:
		m.rows[id] = s
	case o.live == s.live: // two live rows or two streams: cannot be
		m.differ = append(m.differ, id)
	default:
		delete(m.rows, id)
		if !o.ok || !s.ok || o.d != s.d {
			m.differ = append(m.differ, id)
		}
	}
}

func (m *matcher) rebuilt(batch []digested) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range batch {
		m.put(d.id, sideDigest{d: d.row, ok: d.ok})
		if d.hasWeek {
			m.rebuiltWeeks[d.id] = d.weeks
		}
	}
}

func (m *matcher) live(batch []sideDigest, ids []int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, id := range ids {
		m.put(id, batch[i])
	}
}

// candidates are the plans to compare in SQL: digests that differ, rows
// one side lacks, weekly amounts that differ; failed streams left out.
func (m *matcher) candidates(failed map[int64]bool) []int64 {
	set := map[int64]bool{}
	for _, id := range m.differ {
		set[id] = true
	}
	for id := range m.rows {
		set[id] = true
	}
	for id, d := range m.rebuiltWeeks {
		if l, ok := m.liveWeeks[id]; !ok || l != d {
			set[id] = true
		}
	}
	for id := range m.liveWeeks {
		if _, ok := m.rebuiltWeeks[id]; !ok {
			set[id] = true
		}
	}
	var out []int64
	for id := range set {
		if !failed[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// countKey is one account's plans of one status.
type countKey struct {
	account int64
	status  string
}

// readLiveRows digests every live plan row, its values in binary, and
// counts them by account and status, with plan_counts read in the same
// snapshot (see countDiffs).
func (m *matcher) readLiveRows(ctx context.Context, store *eventstore.Store) error {
	tx, err := store.Pool().BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("read plan_views: %w", err)
	}
	defer tx.Rollback(ctx)
	counted := map[countKey]int64{}
	crows, err := tx.Query(ctx, `SELECT account_id, status, sum(n) FROM `+countsTable+` GROUP BY 1, 2 HAVING sum(n) <> 0`)
	if err != nil {
		return fmt.Errorf("read %s: %w", countsTable, err)
	}
	for crows.Next() {
		var k countKey
		var n int64
		if err := crows.Scan(&k.account, &k.status, &n); err != nil {
			crows.Close()
			return fmt.Errorf("read %s: %w", countsTable, err)
		}
		counted[k] = n
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", countsTable, err)
	}
	rows, err := tx.Query(ctx, `SELECT `+planColumns+` FROM plan_views`, pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return fmt.Errorf("read plan_views: %w", err)
	}
	defer rows.Close()
	var buf []byte
	ids := make([]int64, 0, 256)
	batch := make([]sideDigest, 0, 256)
	live := map[countKey]int64{}
	for rows.Next() {
		v := rows.RawValues()
		if len(v) < 4 || len(v[0]) != 8 || len(v[1]) != 8 {
			return fmt.Errorf("read plan_views: malformed row")
		}
		live[countKey{int64(beUint64(v[1])), string(v[3])}]++ // the status is seldom new: no copy
		buf = buf[:0]
		for _, c := range v {
			buf = appendRawValue(buf, c)
		}
		ids = append(ids, int64(beUint64(v[0])))
		batch = append(batch, sideDigest{d: digestOf(buf), live: true, ok: true})
		if len(batch) == cap(batch) {
			m.live(batch, ids)
			batch, ids = batch[:0], ids[:0]
		}
	}
	m.live(batch, ids)
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read plan_views: %w", err)
	}
	m.mu.Lock()
	m.counted, m.liveCounts = counted, live
	m.mu.Unlock()
	return nil
}

// countDiffs is compareCounts over the counts readLiveRows took.
func (m *matcher) countDiffs() []Diff {
	keys := map[countKey]bool{}
	for k := range m.counted {
		keys[k] = true
	}
	for k := range m.liveCounts {
		keys[k] = true
	}
	var diffs []Diff
	for k := range keys {
		if c, l := m.counted[k], m.liveCounts[k]; c != l {
			diffs = append(diffs, countDiff(k.account, k.status, c, l))
		}
	}
	slices.SortFunc(diffs, func(a, b Diff) int {
		if a.PlanID != b.PlanID {
			return cmp.Compare(a.PlanID, b.PlanID)
		}
		return strings.Compare(a.PublicID, b.PublicID)
	})
	return diffs[:min(len(diffs), 1000)]
}

// readLiveWeeks digests the live weekly amounts of every plan.
func (m *matcher) readLiveWeeks(ctx context.Context, store *eventstore.Store) error {
	rows, err := store.Pool().Query(ctx, `SELECT plan_id, account_id, currency, week, due, paid FROM `+weeksTable,
		pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return fmt.Errorf("read %s: %w", weeksTable, err)
	}
	defer rows.Close()
	weeks := map[int64]rowDigest{}
	var buf []byte
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 6 || len(v[0]) != 8 {
			return fmt.Errorf("read %s: malformed row", weeksTable)
		}
		buf = buf[:0]
		for _, c := range v[1:] {
			buf = appendRawValue(buf, c)
		}
		id := int64(beUint64(v[0]))
		d := weeks[id]
		d.xor(digestOf(buf))
		weeks[id] = d
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", weeksTable, err)
	}
	m.mu.Lock()
	m.liveWeeks = weeks
	m.mu.Unlock()
	return nil
}

func beUint64(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// recheck compares the candidate plans in SQL, as a full rebuild compares
// every plan: each is rebuilt (from the store as it is now) into the
// rebuild tables, which hold nothing else, and compare and compareWeeks
// run against the live rows of those plans alone. A candidate PostgreSQL
// refuses to store is reported as failed.
func recheck(ctx context.Context, store *eventstore.Store, cands []int64, res *ReplayResult, failed map[int64]bool,
	wait time.Duration) (*Plans, []Diff, error) {
	pool := store.Pool()
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+rebuildTable+`;
		CREATE UNLOGGED TABLE `+rebuildTable+` (LIKE plan_views INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
		ALTER TABLE `+rebuildTable+` ADD PRIMARY KEY (plan_id);
		DROP TABLE IF EXISTS `+weeksRebuildTable+`;
		CREATE UNLOGGED TABLE `+weeksRebuildTable+` (LIKE `+weeksTable+` INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
		ALTER TABLE `+weeksRebuildTable+` ADD PRIMARY KEY (plan_id, week, currency);
		DROP TABLE IF EXISTS `+candidatesTable+`;
		CREATE UNLOGGED TABLE `+candidatesTable+` (plan_id bigint PRIMARY KEY)`); err != nil {
		return nil, nil, fmt.Errorf("recheck: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO `+candidatesTable+` SELECT unnest($1::bigint[])`, cands); err != nil {
		return nil, nil, fmt.Errorf("recheck: %w", err)
	}
	rebuilt := &Plans{Store: store, table: rebuildTable}
	for _, id := range cands {
		_, err := rebuilt.refold(ctx, id)
		switch {
		case err == nil, isNotFound(err):
		case isPgError(err):
			stream := eventstore.PlanStream(id)
			res.Failed = append(res.Failed, StreamFailure{StreamID: stream, Reason: fmt.Sprintf("write: %v", err)})
			failed[id] = true
		default:
			return nil, nil, fmt.Errorf("recheck plan %d: %w", id, err)
		}
	}
	sort.Slice(res.Failed, func(i, j int) bool { return res.Failed[i].StreamID < res.Failed[j].StreamID })
	live := `(SELECT * FROM plan_views WHERE plan_id IN (SELECT plan_id FROM ` + candidatesTable + `))`
	liveWeeks := `(SELECT * FROM ` + weeksTable + ` WHERE plan_id IN (SELECT plan_id FROM ` + candidatesTable + `))`
	diffs, err := compareAgainst(ctx, store, rebuilt, live, wait, failed)
	if err != nil {
		return nil, nil, err
	}
	weekDiffs, err := compareWeeksAgainst(ctx, store, rebuilt, liveWeeks, wait, failed)
	if err != nil {
		return nil, nil, err
	}
	return rebuilt, append(diffs, weekDiffs...), nil
}

// candidatesTable holds the plan ids recheck compares.
const candidatesTable = "plan_views_recheck"
