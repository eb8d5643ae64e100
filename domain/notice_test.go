package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"goodplan/domain"
)

func tick(now time.Time, reminderDays int) decision {
	return func(p *domain.Plan) ([]domain.Event, error) { return p.Tick(now, reminderDays), nil }
}

func noticeKey(kind domain.NoticeKind, n int, due string) domain.NoticeKey {
	return domain.NoticeKey{Kind: kind, Installment: n, DueDate: d(due)}
}

// requested is a notice of kind about installment n due on due, for
// amount USD outstanding, requested at when.
func requested(kind domain.NoticeKind, n int, due, amount string, when time.Time) domain.NotificationRequested {
	return domain.NotificationRequested{NoticeKey: noticeKey(kind, n, due), Amount: usdm(amount), RequestedAt: when}
}

// sent is the email worker's record that notice kind for installment n due
// on due went out at when.
func sent(kind domain.NoticeKind, n int, due string, when time.Time) domain.NotificationSent {
	return domain.NotificationSent{NoticeKey: noticeKey(kind, n, due), MessageID: "<m>", To: "c@example.com", SentAt: when}
}

func TestTick(t *testing.T) {
	t.Parallel()
	const (
		due  = domain.NoticeDueReminder
		chk  = domain.NoticeCheckin
		chkR = domain.NoticeCheckinReminder
	)
	// Installments of activePlan fall due 2025-12-04, 2026-01-04, 2026-02-04.
	dueReminded := seq(activePlan(), requested(due, 1, "2025-12-04", "400.00", at("2025-12-01")))
	checkedIn := seq(dueReminded, requested(chk, 1, "2025-12-04", "400.00", on("2025-12-04")),
		sent(chk, 1, "2025-12-04", on("2025-12-04")))
	checkinReminded := seq(checkedIn, requested(chkR, 1, "2025-12-04", "400.00", at("2025-12-07")))
	withOpenProposal := then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", on("2025-12-01")))
	runPlanTests(t, []planTest{
		{
			name:     "more than the reminder lead before the first due date: nothing",
			given:    activePlan(),
			when:     tick(at("2025-12-01").Add(-time.Second), 3),
			wantNone: true,
		},
		{
			name:  "three days before: a due reminder for what is outstanding",
			given: activePlan(),
			when:  tick(at("2025-12-01"), 3),
			want:  []domain.Event{requested(due, 1, "2025-12-04", "400.00", at("2025-12-01"))},
			check: func(t *testing.T, p *domain.Plan) {
				if s, ok := p.NoticeStatus(noticeKey(due, 1, "2025-12-04")); !ok || s != domain.EmailPending {
					t.Errorf("NoticeStatus = %s, %v", s, ok)
				}
				if n := p.Notices(); len(n) != 1 || n[0].Status != domain.EmailPending || !n[0].RequestedAt.Equal(at("2025-12-01")) {
					t.Errorf("Notices = %+v", n)
				}
			},
		},
		{
			name:     "the due reminder is requested once",
			given:    dueReminded,
			when:     tick(on("2025-12-03"), 3),
			wantNone: true,
		},
		{
			name:  "on the due date: a check-in",
			given: dueReminded,
			when:  tick(on("2025-12-04"), 3),
			want:  []domain.Event{requested(chk, 1, "2025-12-04", "400.00", on("2025-12-04"))},
		},
		{
			name:     "the check-in is requested once",
			given:    checkedIn,
			when:     tick(on("2025-12-05"), 3),
			wantNone: true,
		},
		{
			name:     "no answer for less than three days: nothing",
			given:    checkedIn,
			when:     tick(at("2025-12-07").Add(-time.Second), 3),
			wantNone: true,
		},
		{
			name:  "three days after the check-in: one check-in reminder",
			given: checkedIn,
			when:  tick(at("2025-12-07"), 3),
			want:  []domain.Event{requested(chkR, 1, "2025-12-04", "400.00", at("2025-12-07"))},
		},
		{
			name:     "nothing more after the check-in reminder",
			given:    checkinReminded,
			when:     tick(on("2025-12-28"), 3),
			wantNone: true,
		},
		{
			name:  "the next installment's reminder in its window",
			given: checkinReminded,
			when:  tick(on("2026-01-01"), 3),
			want:  []domain.Event{requested(due, 2, "2026-01-04", "400.00", on("2026-01-01"))},
		},
		{
			name:  "ticking late: the check-in only, no due reminder",
			given: activePlan(),
			when:  tick(on("2025-12-10"), 3),
			want:  []domain.Event{requested(chk, 1, "2025-12-04", "400.00", on("2025-12-10"))},
		},
		{
			name:  "every installment due at once, in due order",
			given: activePlan(),
			when:  tick(on("2026-03-01"), 3),
			want: []domain.Event{requested(chk, 1, "2025-12-04", "400.00", on("2026-03-01")),
				requested(chk, 2, "2026-01-04", "400.00", on("2026-03-01")),
				requested(chk, 3, "2026-02-04", "400.00", on("2026-03-01"))},
		},
		{
			name:     "a reported installment gets nothing",
			given:    seq(activePlan(), reported(7, 1, "400.00", on("2025-12-03"))),
			when:     tick(on("2025-12-04"), 3),
			wantNone: true,
		},
		{
			name:  "a checked-in installment reported later gets no reminder; the next one is still reminded",
			given: seq(checkedIn, reported(7, 1, "400.00", on("2025-12-05"))),
			when:  tick(on("2026-01-01"), 3),
			want:  []domain.Event{requested(due, 2, "2026-01-04", "400.00", on("2026-01-01"))},
		},
		{
			name:     "a confirmed installment gets nothing",
			given:    seq(activePlan(), recorded(7, 1, "400", on("2025-12-01"), al(1, "400"))),
			when:     tick(on("2025-12-04"), 3),
			wantNone: true,
		},
		{
			name:  "a partly paid installment: the check-in names what is left",
			given: seq(activePlan(), recorded(7, 1, "150", on("2025-12-01"), al(1, "150"))),
			when:  tick(on("2025-12-04"), 3),
			want:  []domain.Event{requested(chk, 1, "2025-12-04", "250.00", on("2025-12-04"))},
		},
		{
			name:     "reminder lead 0: no due reminder",
			given:    activePlan(),
			when:     tick(on("2025-12-03"), 0),
			wantNone: true,
		},
		{
			name:  "reminder lead 0: the check-in still comes",
			given: activePlan(),
			when:  tick(on("2025-12-04"), 0),
			want:  []domain.Event{requested(chk, 1, "2025-12-04", "400.00", on("2025-12-04"))},
		},
		{
			name:  "reminder lead 7",
			given: activePlan(),
			when:  tick(at("2025-11-27"), 7),
			want:  []domain.Event{requested(due, 1, "2025-12-04", "400.00", at("2025-11-27"))},
		},
		{
			name:  "the time is kept in UTC",
			given: activePlan(),
			when:  tick(time.Date(2025, 12, 4, 1, 0, 0, 0, time.FixedZone("CET", 3600)), 3),
			want:  []domain.Event{requested(chk, 1, "2025-12-04", "400.00", at("2025-12-04"))},
		},
		{
			name: "an extended installment gets new notices for its new date",
			given: seq(checkedIn, domain.InstallmentExtensionGranted{Installment: 1,
				Changes: []domain.DueDateChange{{Installment: 1, From: d("2025-12-04"), To: d("2025-12-20")}}, GrantedAt: on("2025-12-05")}),
			when: tick(on("2025-12-17"), 3),
			want: []domain.Event{requested(due, 1, "2025-12-20", "400.00", on("2025-12-17"))},
		},
		{
			name: "an extended installment is checked in on its new date",
			given: seq(checkedIn, domain.InstallmentExtensionGranted{Installment: 1,
				Changes: []domain.DueDateChange{{Installment: 1, From: d("2025-12-04"), To: d("2025-12-20")}}, GrantedAt: on("2025-12-05")}),
			when: tick(on("2025-12-20"), 3),
			want: []domain.Event{requested(chk, 1, "2025-12-20", "400.00", on("2025-12-20"))},
		},
		{
			name:     "pending: a second before 30 days, nothing",
			given:    pendingPlan(),
			when:     tick(seedNow.Add(domain.AbandonAfter-time.Second), 3),
			wantNone: true,
		},
		{
			name:  "pending: abandoned at exactly 30 days",
			given: pendingPlan(),
			when:  tick(seedNow.Add(domain.AbandonAfter), 3),
			want:  []domain.Event{domain.PlanAbandoned{PendingSince: seedNow, AbandonedAt: seedNow.Add(domain.AbandonAfter)}},
			check: func(t *testing.T, p *domain.Plan) {
				wantStatus(t, p, domain.StatusAbandoned)
				if at, _ := p.Closed(); !at.Equal(seedNow.Add(domain.AbandonAfter)) {
					t.Errorf("Closed at %v", at)
				}
				if evs := p.Tick(seedNow.Add(2*domain.AbandonAfter), 3); len(evs) != 0 {
					t.Errorf("abandoned twice:\n%s", show(evs))
				}
			},
		},
		{
			name:     "pending with an open proposal: not abandoned",
			given:    withOpenProposal,
			when:     tick(seedNow.Add(60*24*time.Hour), 3),
			wantNone: true,
		},
		{
			name:     "pending with a counter-offer unanswered: not before 30 days after the counter",
			given:    then(t, withOpenProposal, counter(5, "2", "monthly", "2025-12-15", "", on("2025-12-02"))),
			when:     tick(on("2025-12-02").Add(domain.AbandonAfter-time.Second), 3),
			wantNone: true,
		},
		{
			name:  "pending with a counter-offer unanswered for 30 days: abandoned",
			given: then(t, withOpenProposal, counter(5, "2", "monthly", "2025-12-15", "", on("2025-12-02"))),
			when:  tick(on("2025-12-02").Add(domain.AbandonAfter), 3),
			want:  []domain.Event{domain.PlanAbandoned{PendingSince: seedNow, AbandonedAt: on("2025-12-02").Add(domain.AbandonAfter)}},
		},
		{
			name:     "a check-in not sent (still being sent, or moot): no check-in reminder",
			given:    seq(activePlan(), requested(domain.NoticeCheckin, 1, "2025-12-04", "400.00", on("2025-12-04"))),
			when:     tick(on("2025-12-20"), 3),
			wantNone: true,
		},
		{
			name:  "pending after a declined proposal: abandoned",
			given: then(t, withOpenProposal, decline(5, "", on("2025-12-02"))),
			when:  tick(seedNow.Add(60*24*time.Hour), 3),
			want:  []domain.Event{domain.PlanAbandoned{PendingSince: seedNow, AbandonedAt: seedNow.Add(60 * 24 * time.Hour)}},
		},
		{
			name:     "completed: nothing",
			given:    completedPlan(),
			when:     tick(on("2026-03-01"), 3),
			wantNone: true,
		},
		{
			name:     "cancelled: nothing",
			given:    cancelledPlan(),
			when:     tick(on("2026-03-01"), 3),
			wantNone: true,
		},
		{
			name:     "written off: nothing",
			given:    writtenOffPlan(),
			when:     tick(on("2026-03-01"), 3),
			wantNone: true,
		},
		{
			name:     "abandoned: nothing",
			given:    abandonedPlan(),
			when:     tick(on("2026-03-01"), 3),
			wantNone: true,
		},
		{
			name:     "plan that does not exist: nothing",
			when:     tick(on("2026-03-01"), 3),
			wantNone: true,
		},
	})
}

func TestWake(t *testing.T) {
	t.Parallel()
	dueReminded := seq(activePlan(), requested(domain.NoticeDueReminder, 1, "2025-12-04", "400.00", at("2025-12-01")))
	checkedIn := seq(dueReminded, requested(domain.NoticeCheckin, 1, "2025-12-04", "400.00", on("2025-12-04")),
		sent(domain.NoticeCheckin, 1, "2025-12-04", on("2025-12-04")))
	checkinReminded := seq(checkedIn, requested(domain.NoticeCheckinReminder, 1, "2025-12-04", "400.00", on("2025-12-07")))
	tests := []struct {
		name          string
		given         []domain.Event
		wakeAt        time.Time
		dueReminderOn string
	}{
		{"pending: at abandonment", pendingPlan(), seedNow.Add(domain.AbandonAfter), ""},
		{"pending with an open proposal: never", then(t, pendingPlan(), propose(5, "4", "monthly", "2025-12-15", on("2025-12-01"))),
			time.Time{}, ""},
		{"active: the first due date", activePlan(), at("2025-12-04"), "2025-12-04"},
		{"first due-reminded: its due date, the next one's reminder", dueReminded, at("2025-12-04"), "2026-01-04"},
		{"checked in: three days later", checkedIn, at("2025-12-07"), "2026-01-04"},
		{"check-in reminded: the next installment", checkinReminded, at("2026-01-04"), "2026-01-04"},
		{"first reported: the next installment", seq(activePlan(), reported(7, 1, "400", on("2025-12-01"))), at("2026-01-04"), "2026-01-04"},
		{"first paid: the next installment", seq(activePlan(), recorded(7, 1, "400", on("2025-12-01"), al(1, "400"))),
			at("2026-01-04"), "2026-01-04"},
		{"completed: never", completedPlan(), time.Time{}, ""},
		{"cancelled: never", cancelledPlan(), time.Time{}, ""},
		{"abandoned: never", abandonedPlan(), time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wakeAt, dueOn := fold(tt.given).Wake()
			var want domain.Date
			if tt.dueReminderOn != "" {
				want = d(tt.dueReminderOn)
			}
			if !wakeAt.Equal(tt.wakeAt) || dueOn != want {
				t.Errorf("Wake() = %v, %s; want %v, %s", wakeAt, dueOn, tt.wakeAt, want)
			}
		})
	}
}

// TestWakeAgreesWithTick checks that Tick decides nothing before the time
// Wake names and something at it, along a plan's whole life.
func TestWakeAgreesWithTick(t *testing.T) {
	t.Parallel()
	const lead = 3
	p := fold(activePlan())
	now := at("2025-11-28")
	for step := 0; step < 20; step++ {
		wakeAt, dueOn := p.Wake()
		next := wakeAt
		if !dueOn.IsZero() {
			if r := dueOn.AddDays(-lead).Time(); next.IsZero() || r.Before(next) {
				next = r
			}
		}
		if next.IsZero() {
			break
		}
		if next.After(now) {
			if evs := p.Tick(next.Add(-time.Second), lead); len(evs) != 0 {
				t.Fatalf("step %d: Tick a second before %v decided\n%s", step, next, show(evs))
			}
			now = next
		}
		evs := p.Tick(now, lead)
		if len(evs) == 0 {
			t.Fatalf("step %d: Tick at %v (Wake %v, %s) decided nothing", step, now, wakeAt, dueOn)
		}
		for _, e := range evs {
			p.Apply(e)
			if r, ok := e.(domain.NotificationRequested); ok { // the email worker sends it
				p.Apply(domain.NotificationSent{NoticeKey: r.NoticeKey, SentAt: now})
			}
		}
	}
	// Every installment got its due reminder, check-in and check-in reminder.
	if n := len(p.Notices()); n != 9 {
		t.Errorf("%d notices, want 9: %+v", n, p.Notices())
	}
}

func TestNotificationOutcomes(t *testing.T) {
	t.Parallel()
	key := noticeKey(domain.NoticeCheckin, 1, "2025-12-04")
	checkedIn := seq(activePlan(), requested(domain.NoticeCheckin, 1, "2025-12-04", "400.00", on("2025-12-04")))
	sentAt := on("2025-12-04").Add(time.Minute)
	sent := func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordNotificationSent(key, "<m1@goodplan>", "john@example.com", sentAt)
	}
	failed := func(p *domain.Plan) ([]domain.Event, error) {
		return p.RecordNotificationFailed(key, "550 no such user", 1, sentAt)
	}
	runPlanTests(t, []planTest{
		{
			name:  "sent",
			given: checkedIn,
			when:  sent,
			want: []domain.Event{domain.NotificationSent{NoticeKey: key, MessageID: "<m1@goodplan>", To: "john@example.com",
				SentAt: sentAt}},
			check: func(t *testing.T, p *domain.Plan) {
				if s, _ := p.NoticeStatus(key); s != domain.EmailSent {
					t.Errorf("status %s", s)
				}
				if n := p.Notices(); len(n) != 1 || !n[0].RequestedAt.Equal(on("2025-12-04")) {
					t.Errorf("Notices = %+v", n)
				}
			},
		},
		{
			name:  "failed",
			given: checkedIn,
			when:  failed,
			want:  []domain.Event{domain.NotificationFailed{NoticeKey: key, Reason: "550 no such user", Attempts: 1, FailedAt: sentAt}},
			check: func(t *testing.T, p *domain.Plan) {
				if s, _ := p.NoticeStatus(key); s != domain.EmailFailed {
					t.Errorf("status %s", s)
				}
			},
		},
		{
			name:     "sent again (a redelivered message): nothing",
			given:    then(t, checkedIn, sent),
			when:     sent,
			wantNone: true,
		},
		{
			name:     "failed after sent: nothing",
			given:    then(t, checkedIn, sent),
			when:     failed,
			wantNone: true,
		},
		{
			name:    "a notice never requested",
			given:   activePlan(),
			when:    sent,
			wantErr: domain.ErrNoticeNotRequested,
		},
		{
			name:    "plan that does not exist",
			when:    failed,
			wantErr: domain.ErrPlanNotFound,
		},
	})
	var p domain.Plan
	if _, ok := p.NoticeStatus(key); ok {
		t.Errorf("NoticeStatus on an empty plan found a notice")
	}
	if _, err := fold(activePlan()).RecordNotificationSent(key, "", "", sentAt); !errors.Is(err, domain.ErrNoticeNotRequested) {
		t.Errorf("err = %v", err)
	}
	if got := fold(checkedIn).Notices(); !reflect.DeepEqual(got, []domain.Notice{{NoticeKey: key, Status: domain.EmailPending,
		RequestedAt: on("2025-12-04")}}) {
		t.Errorf("Notices = %+v", got)
	}
}
