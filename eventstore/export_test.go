package eventstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// AppendInTx runs the real append statement inside tx, so tests can hold a
// commit open and make transactions commit out of order.
func AppendInTx(ctx context.Context, tx pgx.Tx, stream string, expected Head, events []NewEvent, meta Metadata, opts ...AppendOption) ([]Record, error) {
	return appendWith(ctx, tx, stream, expected, events, meta, opts...)
}

// PlanNumber is planNumber, for the test that holds it to PlanIDOf.
var PlanNumber = planNumber[string]
