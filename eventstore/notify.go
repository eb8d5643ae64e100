package eventstore

import "context"

// NotifyChannel is the LISTEN/NOTIFY channel that wakes the relay.
const NotifyChannel = "goodplan_events"

// signalAppend nudges RunNotifier after a successful append, without ever
// blocking the append.
func (s *Events) signalAppend() {
	select {
	case s.appended <- struct{}{}:
	default: // a notification is already pending; it covers this append too
	}
}

// RunNotifier sends NOTIFY goodplan_events after appends, coalesced to at
// most one in flight per process, until ctx is done.
//
// The NOTIFY is deliberately not part of the append's transaction: a
// transaction that notifies takes a cluster-wide lock while it commits, which
// would serialise every append's commit (no group commit) and cut durable
// throughput. Here it is a separate, asynchronously committed statement. A
// NOTIFY that is lost (crash, no listener) only delays the relay until its
// poll fallback.
func (s *Events) RunNotifier(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.appended:
			_, _ = s.pool.Exec(ctx, `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')`, NotifyChannel)
		}
	}
}
