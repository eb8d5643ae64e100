package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"goodplan/domain"
	"goodplan/eventstore"
)

// Every command of the API and the portal goes through
// eventstore.Aggregate.Run (load, decide, append, retry, replay); this file
// holds what HTTP adds to it, once: the Idempotency-Key as a command id,
// the request hash it is checked against, and the Idempotent-Replayed
// answer header. A reused key with another request comes back from the
// runner as eventstore.ErrCommandReused, a 422 (see codes in errors.go).

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

// planCommand is a command on a payment plan.
type planCommand = eventstore.Cmd[*domain.Plan]

// planOutcome is what a command on a payment plan did.
type planOutcome = eventstore.Outcome[*domain.Plan]

// runPlan runs c on the plan c.ID.
func (s *Server) runPlan(ctx context.Context, c planCommand) (planOutcome, error) {
	return eventstore.PlanAggregate.Run(ctx, s.store, c)
}

// idempotent makes c, a command on any aggregate, replayable when the
// request carries an Idempotency-Key: its command id (keys are per account)
// and the request hash reqHash, against which a reuse of the key is
// checked. A key over maxIdempotencyKey bytes or with a character outside
// printable ASCII is a 400.
func idempotent[A any](r *http.Request, acct eventstore.Account, reqHash []byte, c *eventstore.Cmd[A]) error {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil
	}
	if len(key) > maxIdempotencyKey {
		return badRequest("Invalid Idempotency-Key",
			"The Idempotency-Key header may not be longer than "+strconv.Itoa(maxIdempotencyKey)+" characters.")
	}
	if strings.ContainsFunc(key, func(r rune) bool { return r < ' ' || r > '~' }) {
		return badRequest("Invalid Idempotency-Key",
			"The Idempotency-Key header may contain only printable ASCII characters.")
	}
	c.Meta.CommandID = "idempotency:" + strconv.FormatInt(acct.ID, 10) + ":" + key
	c.RequestHash = reqHash
	return nil
}

// caller is who runs a command of the catalog and plan group helpers, and
// how: the account it acts in, the event metadata (Meta.CommandID set when
// the command is replayable) and the request hash a replay is checked
// against. The API's caller is apiCaller (the key's account and its
// Idempotency-Key), the dashboard's dashboardCaller (the user's account
// and the form's form_id): both run the same helpers.
type caller struct {
	account int64
	meta    eventstore.Metadata
	reqHash []byte
}

// apiCaller is the caller of an API request authenticated by a key: its
// account, the merchant as actor, and its Idempotency-Key (see idempotent)
// checked against reqHash.
func (s *Server) apiCaller(r *http.Request, reqHash []byte) (caller, error) {
	acct := accountFrom(r.Context())
	c := eventstore.Cmd[struct{}]{Meta: s.metadata(r, acct)}
	if err := idempotent(r, acct, reqHash, &c); err != nil {
		return caller{}, err
	}
	return caller{account: acct.ID, meta: c.Meta, reqHash: c.RequestHash}, nil
}

// commandOf is a command on an aggregate of type A run by cl.
func commandOf[A any](cl caller) eventstore.Cmd[A] {
	return eventstore.Cmd[A]{Meta: cl.meta, RequestHash: cl.reqHash}
}

// markReplayed tells the client that out is the first outcome of its
// Idempotency-Key, answered again.
func markReplayed[A any](w http.ResponseWriter, out eventstore.Outcome[A]) {
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
}

// routeRequestHash identifies a command request for Idempotency-Key: its
// method, path and canonical body (see requestHash).
func routeRequestHash(r *http.Request, body []byte) []byte {
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), requestHash(body)...))
	return sum[:]
}

// requestHash identifies a request body for Idempotency-Key: the SHA-256 of
// its canonical JSON (sorted keys, no insignificant white space, numbers by
// decimal value so 1200.00 and 1200 match), so a retry that re-serialises the
// same body still matches. A body that is not JSON is hashed as it is.
func requestHash(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		if canon, err := json.Marshal(canonicalNumbers(v)); err == nil {
			body = canon
		}
	}
	sum := sha256.Sum256(body)
	return sum[:]
}

// maxCanonicalNumber bounds the numbers canonicalNumbers reduces.
const maxCanonicalNumber = 64

// canonicalNumbers rewrites every json.Number in v as its reduced decimal.
func canonicalNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = canonicalNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = canonicalNumbers(e)
		}
	case json.Number:
		if len(v) > maxCanonicalNumber {
			return v // no real amount is this long; reducing it costs quadratic time
		}
		d, _, err := apd.NewFromString(string(v))
		// Bounded: 'f' formatting of 1e999999999 would be a gigabyte.
		if err == nil && d.Form == apd.Finite && d.Exponent > -64 && d.Exponent < 64 {
			d.Reduce(d)
			return json.Number(d.Text('f'))
		}
	}
	return v
}

// newIDs allocates n entity ids (plans, customers, invoices, options,
// payments, proposals) before a command decides.
func (s *Server) newIDs(ctx context.Context, n int) ([]int64, error) {
	ids := make([]int64, n)
	for i := range ids {
		id, err := s.store.NextID(ctx)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}
