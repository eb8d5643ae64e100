package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"goodplan/domain"
)

// The append is one statement, so one round trip and one implicit
// transaction. The stream row is the only thing locked: a version check
// (UPDATE ... WHERE version = expected, or INSERT for a new stream) decides
// the race; every other CTE reads `st`, so a lost race writes nothing and
// returns zero rows. A replayed command id violates commands_pkey and a used-up
// plan quota violates accounts_plan_quota_check: both abort the statement, as
// does a catalog plan public id already held (catalog_plan_ids_live_key).
const appendTail = `
), quota AS (
	UPDATE accounts SET plans_created = plans_created + 1
	WHERE id = $6 AND $7::bool AND EXISTS (SELECT 1 FROM st)
	RETURNING 1
), cid AS (
	INSERT INTO catalog_plan_ids (account_id, public_id, catalog_plan_id, reserved_at)
	SELECT $17, $18, $19, $10 FROM st WHERE $18::text IS NOT NULL
	RETURNING 1
), cid_release AS (
	UPDATE catalog_plan_ids SET released_at = $10
	WHERE catalog_plan_id = $20 AND $20::bigint <> 0 AND released_at IS NULL AND EXISTS (SELECT 1 FROM st)
	RETURNING 1
), price AS (
	INSERT INTO catalog_prices (price_id, account_id, catalog_plan_id, unit_amount, currency, created_at)
	SELECT $21, $22, $23, $24::numeric, $25, $26 FROM st WHERE $21::text IS NOT NULL
	RETURNING 1
), cmd AS (
	INSERT INTO commands (command_id, stream_id, first_version, last_version, request_hash, recorded_at)
	SELECT $8, $1, $2::bigint + 1, $3, $9, $10 FROM st WHERE $16::bool
	RETURNING 1
)
INSERT INTO events (stream_id, version, event_id, type, data, metadata, recorded_at, hash)
SELECT $1, $2::bigint + e.ord, e.event_id, e.type, e.data, $11, $10, e.hash
FROM unnest($12::uuid[], $13::text[], $14::bytea[], $15::bytea[]) WITH ORDINALITY AS e(event_id, type, data, hash, ord)
WHERE EXISTS (SELECT 1 FROM st)
ORDER BY e.ord
RETURNING global_position, tx_id`

const appendNewStream = `WITH st AS (
	INSERT INTO streams (stream_id, version, last_hash)
	SELECT $1, $3, $4 WHERE $2::bigint = 0 AND $5::bytea IS NULL
	ON CONFLICT (stream_id) DO NOTHING
	RETURNING 1` + appendTail

const appendExistingStream = `WITH st AS (
	UPDATE streams SET version = $3, last_hash = $4
	WHERE stream_id = $1 AND version = $2 AND last_hash = $5
	RETURNING 1` + appendTail

// MaxEventBytes caps one event's encoded size: its data plus its metadata,
// as stored. The relay publishes every event as one NATS message (the event
// inside an envelope, see workers.MaxMessageBytes), so an event over the
// cap could be stored but never published, and would stop the relay for
// every account; Append refuses it instead.
const MaxEventBytes = 256 << 10

// AppendOption changes how one Append behaves.
type AppendOption func(*appendOptions)

type appendOptions struct {
	requestHash  []byte
	quotaAccount int64
	// catalogID reserves a public id (WithCatalogPlanID); releaseCatalog
	// releases the id of a catalog plan (WithCatalogPlanRelease).
	catalogAccount int64
	catalogPublic  *string
	catalogPlan    int64
	releaseCatalog int64
	// price is recorded in catalog_prices (WithCatalogPrice).
	price        *domain.Price
	priceAccount int64
	pricePlan    int64
}

// WithCatalogPrice records price, minted by catalog plan catalogPlanID of
// account, in catalog_prices in the same statement as the append that
// creates the plan: the table holds a price exactly when its event is
// stored (see CatalogPrices).
func WithCatalogPrice(account, catalogPlanID int64, price domain.Price) AppendOption {
	return func(o *appendOptions) { o.price, o.priceAccount, o.pricePlan = &price, account, catalogPlanID }
}

// WithCatalogPlanID reserves publicID for catalog plan catalogPlanID in
// account, in the same statement as the append that creates the plan:
// Append returns ErrCatalogIDTaken when a plan not deleted of the account
// already holds it.
func WithCatalogPlanID(account int64, publicID string, catalogPlanID int64) AppendOption {
	return func(o *appendOptions) {
		o.catalogAccount, o.catalogPublic, o.catalogPlan = account, &publicID, catalogPlanID
	}
}

// WithCatalogPlanRelease releases the public id of catalog plan
// catalogPlanID in the same statement as the append that deletes it, so a
// new plan may take it.
func WithCatalogPlanRelease(catalogPlanID int64) AppendOption {
	return func(o *appendOptions) { o.releaseCatalog = catalogPlanID }
}

// WithRequestHash records a hash of the request that carried the command, so
// a caller can tell a retried request from a different one reusing the same
// command id (Idempotency-Key).
func WithRequestHash(h []byte) AppendOption {
	return func(o *appendOptions) { o.requestHash = h }
}

// WithPlanQuota counts the append as one new plan of the account, in the same
// statement; Append returns ErrPlanLimitReached when the account's plan limit
// is used up. Use it only for accounts that have a limit: it locks the
// account row until commit.
func WithPlanQuota(accountID int64) AppendOption {
	return func(o *appendOptions) { o.quotaAccount = accountID }
}

// Append writes events to stream if the stream is at expected (the zero Head
// for a new stream) and returns the stored records. It returns
// ErrVersionConflict if another writer got there first, ErrDuplicateCommand if
// meta.CommandID was already appended (an empty CommandID gets a generated
// one, recorded in the metadata only), ErrPlanLimitReached (see
// WithPlanQuota), ErrCatalogIDTaken (see WithCatalogPlanID) and ErrEventTooLarge (an event over MaxEventBytes); in each
// of those cases nothing was written.
//
// Concurrent appends are committed together (see groupCommitter): one
// statement and one commit for many, each caller still told its own
// outcome, and only after the commit. An append with an option other than
// WithRequestHash (a plan quota, a catalog id or price) runs alone.
func (s *Events) Append(ctx context.Context, stream string, expected Head, events []NewEvent, meta Metadata, opts ...AppendOption) ([]Record, error) {
	recs, err := s.append(ctx, stream, expected, events, meta, opts...)
	s.metrics.observe(len(events), err)
	return recs, err
}

// append is Append without the metrics.
func (s *Events) append(ctx context.Context, stream string, expected Head, events []NewEvent, meta Metadata, opts ...AppendOption) ([]Record, error) {
	var o appendOptions
	for _, opt := range opts {
		opt(&o)
	}
	if !o.plain() {
		recs, err := appendWith(ctx, s.pool, stream, expected, events, meta, opts...)
		if err == nil {
			s.signalAppend()
		}
		return recs, err
	}
	p, err := prepare(stream, expected, events, meta, o.requestHash)
	if err != nil {
		return nil, err
	}
	return s.group.append(ctx, p)
}

// plain reports whether o asks for nothing but a request hash: such an
// append can be committed in a batch.
func (o *appendOptions) plain() bool {
	return o.quotaAccount == 0 && o.catalogPublic == nil && o.releaseCatalog == 0 && o.price == nil
}

// checkAppend returns the metadata as Append stores it with events (an
// empty CommandID replaced by a generated one) and ErrEventTooLarge if one
// of events would be over MaxEventBytes with it: what Append refuses before
// it writes, also checked by a dry run (Cmd.DryRun).
func checkAppend(stream string, events []NewEvent, meta Metadata) ([]byte, error) {
	if meta.CommandID == "" {
		meta.CommandID = uuid.NewString()
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("append %s: encode metadata: %w", stream, err)
	}
	for _, e := range events {
		if n := len(e.Data) + len(metaJSON); n > MaxEventBytes {
			return nil, fmt.Errorf("append %s: %s event of %d bytes (data and metadata), over %d: %w",
				stream, e.Type, n, MaxEventBytes, ErrEventTooLarge)
		}
	}
	return metaJSON, nil
}

// querier is what an append runs on: the pool (one implicit transaction) or,
// in tests that hold commits open, an explicit transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func appendWith(ctx context.Context, q querier, stream string, expected Head, events []NewEvent, meta Metadata, opts ...AppendOption) ([]Record, error) {
	var o appendOptions
	for _, opt := range opts {
		opt(&o)
	}
	p, err := prepare(stream, expected, events, meta, o.requestHash)
	if err != nil {
		return nil, err
	}
	return appendPrepared(ctx, q, p, &o)
}

// appendPrepared runs one prepared append alone, with its options, as one
// statement.
func appendPrepared(ctx context.Context, q querier, p *prepared, o *appendOptions) ([]Record, error) {
	stream, expected := p.stream, p.expected
	recs := p.recs
	ids := make([]uuid.UUID, len(recs))
	types := make([]string, len(recs))
	datas := make([][]byte, len(recs))
	hashes := make([][]byte, len(recs))
	for i, r := range recs {
		ids[i], types[i], datas[i], hashes[i] = r.EventID, r.Type, r.Data, r.Hash
	}
	last := p.last()

	sql := appendExistingStream
	prevHash := expected.Hash
	if expected.Version == 0 {
		sql = appendNewStream
		prevHash = nil
	}
	var priceID, priceAmount, priceCurrency *string
	var priceAt *time.Time
	if p := o.price; p != nil {
		amount := p.UnitAmount.String()
		priceID, priceAmount, priceCurrency, priceAt = &p.ID, &amount, &p.Currency, &p.CreatedAt
	}
	rows, err := q.Query(ctx, sql,
		stream, expected.Version, last.Version, last.Hash, prevHash,
		o.quotaAccount, o.quotaAccount != 0,
		p.commandID, p.requestHash, p.recordedAt, p.metaJSON,
		ids, types, datas, hashes, p.recordCommand,
		o.catalogAccount, o.catalogPublic, o.catalogPlan, o.releaseCatalog,
		priceID, o.priceAccount, o.pricePlan, priceAmount, priceCurrency, priceAt)
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", stream, interpretError(err))
	}
	n := 0
	for rows.Next() {
		if n < len(recs) {
			if err := rows.Scan(&recs[n].Position, &recs[n].TxID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("append %s: %w", stream, err)
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("append %s: %w", stream, interpretError(err))
	}
	if n == 0 {
		return nil, fmt.Errorf("append %s at version %d: %w", stream, expected.Version, ErrVersionConflict)
	}
	if n != len(recs) {
		return nil, fmt.Errorf("append %s: stored %d of %d events", stream, n, len(recs))
	}
	return recs, nil
}

// Command is the first result of a command id.
type Command struct {
	ID           string
	StreamID     string
	FirstVersion int64
	LastVersion  int64
	RequestHash  []byte
	RecordedAt   time.Time
}

// LookupCommand returns what command id wrote, or ErrNotFound.
func (s *Events) LookupCommand(ctx context.Context, id string) (Command, error) {
	c := Command{ID: id}
	err := s.pool.QueryRow(ctx,
		`SELECT stream_id, first_version, last_version, request_hash, recorded_at FROM commands WHERE command_id = $1`, id).
		Scan(&c.StreamID, &c.FirstVersion, &c.LastVersion, &c.RequestHash, &c.RecordedAt)
	if err != nil {
		return Command{}, fmt.Errorf("lookup command %s: %w", id, interpretError(err))
	}
	return c, nil
}
