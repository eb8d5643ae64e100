package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"goodplan/domain"
)

// checkSnapshot is the snapshot property of the ledger simulation
// (TestLedgerProperties): after every command, restoring the plan's
// snapshot gives the plan, and restoring a snapshot taken at a random
// earlier point and folding the decoded events after it gives the plan a
// fold of every event gives.
func (s *ledgerSim) checkSnapshot() error {
	now, err := s.p.Snapshot()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	restored, err := domain.RestorePlan(now)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !domain.SameState(restored, s.p) {
		return fmt.Errorf("restore(snapshot(plan)) gives\n%+v\nwant\n%+v", restored, s.p)
	}
	if s.snap != nil {
		p, err := domain.RestorePlan(s.snap)
		if err != nil {
			return fmt.Errorf("restore the snapshot at %d: %w", s.snapAt, err)
		}
		for _, e := range s.decoded[s.snapAt:] {
			p.Apply(e)
		}
		if !domain.SameState(p, s.p) {
			return fmt.Errorf("restore(snapshot at %d) + fold(%d events after it) gives\n%+v\nwant\n%+v",
				s.snapAt, len(s.decoded)-s.snapAt, p, s.p)
		}
	}
	if s.snap == nil || s.r.IntN(3) == 0 {
		s.snap, s.snapAt = now, len(s.decoded)
	}
	return nil
}

func TestRestorePlanRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	var p domain.Plan
	if _, err := p.Snapshot(); !errors.Is(err, domain.ErrPlanNotFound) {
		t.Fatalf("snapshot of no plan: %v", err)
	}
	for name, tc := range map[string]struct {
		b    string
		want error
	}{
		"another schema": {fmt.Sprintf(`{"schema":%d,"version":3,"id":1}`, domain.PlanSnapshotSchema+1), domain.ErrSnapshotSchema},
		"no schema":      {`{"version":3,"id":1}`, domain.ErrSnapshotSchema},
		"no plan":        {fmt.Sprintf(`{"schema":%d,"version":0,"id":1}`, domain.PlanSnapshotSchema), domain.ErrPlanNotFound},
		"bad amount": {fmt.Sprintf(`{"schema":%d,"version":3,"id":1,"invoice":{"amount":"1.2.3"}}`, domain.PlanSnapshotSchema),
			domain.ErrInvalidAmount},
	} {
		if _, err := domain.RestorePlan([]byte(tc.b)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if _, err := domain.RestorePlan([]byte(`{"schema":`)); err == nil || !strings.Contains(err.Error(), "restore plan") {
		t.Errorf("truncated: %v", err)
	}
}

// TestSnapshotKeepsEmailsAndCounts covers what the ledger simulation does
// not decide: plan emails, notices, introduction resends and the counts
// behind the caps.
func TestSnapshotKeepsEmailsAndCounts(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	regenerated := domain.PortalLinkRegenerated{PortalToken: "tok-2", RegeneratedAt: now}
	key := domain.PlanEmailKey{Kind: domain.EmailPortalLink, EventVersion: 3}
	events := seq(activePlan(), regenerated,
		domain.PlanEmailRequested{PlanEmailKey: key, To: []string{"john@example.com"}, RequestedAt: now},
		domain.PlanEmailSent{PlanEmailKey: key, To: "john@example.com", MessageID: "<m1@x>", SentAt: now},
		domain.InstallmentDeferred{Installment: 1, From: d("2025-12-04"), To: d("2026-03-04"), DeferredAt: now},
		domain.NotificationRequested{NoticeKey: domain.NoticeKey{Kind: domain.NoticeCheckinReminder, Installment: 1,
			DueDate: d("2025-12-04")}, RequestedAt: now},
		domain.IntroductionEmailResendRequested{Resend: 1, RequestedAt: now})
	for cut := 1; cut <= len(events); cut++ {
		b, err := fold(events[:cut]).Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		p, err := domain.RestorePlan(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events[cut:] {
			p.Apply(e)
		}
		if want := fold(events); !domain.SameState(p, want) {
			t.Fatalf("restore(snapshot after %d) + fold(rest) gives\n%+v\nwant\n%+v", cut, p, want)
		}
	}
	if p := fold(events); !p.Extended() || len(p.PlanEmails()) != 1 || len(p.Notices()) != 1 {
		t.Fatalf("extended %v, %d emails, %d notices", p.Extended(), len(p.PlanEmails()), len(p.Notices()))
	}
}

// TestCapsRefuseWithAConflict: past a cap, a command is a *ConflictError
// naming it.
func TestCapsRefuseWithAConflict(t *testing.T) {
	t.Parallel()
	now := on("2025-12-05")
	events := activePlan()
	for i := range domain.MaxPortalLinks {
		events = append(events, domain.PortalLinkRegenerated{PortalToken: fmt.Sprintf("tok-%d", i), RegeneratedAt: now})
	}
	p := fold(events[:len(events)-1])
	if _, err := p.RegeneratePortalLink("new", now); err != nil {
		t.Fatalf("the last one under the cap: %v", err)
	}
	p = fold(events)
	_, err := p.RegeneratePortalLink("new", now)
	var ce *domain.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "100 portal links regenerated") {
		t.Fatalf("past the cap: %v", err)
	}
	for i := range domain.MaxDueDateChanges {
		events = append(events, domain.InstallmentExtensionGranted{Installment: 1, GrantedAt: now, Changes: []domain.DueDateChange{
			{Installment: 1, From: d("2025-12-04"), To: d("2025-12-04").AddDays(i + 1)}}})
	}
	p = fold(events)
	if _, err := p.DeferInstallment(2, now); !errors.As(err, &ce) || !strings.Contains(ce.Msg, "due dates moved") {
		t.Fatalf("defer past the cap: %v", err)
	}
}
