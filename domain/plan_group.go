package domain

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Event type names of plan groups (not webhook types by default).
const (
	// EventPlanGroupCreated is the type of PlanGroupCreated.
	EventPlanGroupCreated = "plan_group.created"
	// EventPlanGroupUpdated is the type of PlanGroupUpdated.
	EventPlanGroupUpdated = "plan_group.updated"
	// EventPlanGroupDeleted is the type of PlanGroupDeleted.
	EventPlanGroupDeleted = "plan_group.deleted"
)

// Errors of plan group commands.
var (
	// ErrPlanGroupExists is returned by Create on a stream with events.
	ErrPlanGroupExists = errors.New("plan group already exists")
	// ErrPlanGroupNotFound is returned by Update and Delete on a group
	// never created.
	ErrPlanGroupNotFound = errors.New("plan group not found")
)

// MaxGroupMembers is the most plans one group may hold.
const MaxGroupMembers = 1000

// MemberKind says what a plan group member is.
type MemberKind string

// The member kinds.
const (
	CatalogPlanMember MemberKind = "catalog_plan"
	PaymentPlanMember MemberKind = "payment_plan"
)

// GroupMember is one plan of a group: a catalog plan by its internal id
// (with the public id it had when added: public ids may be reused after a
// deletion, internal ids never are) or a payment plan by its id.
type GroupMember struct {
	Kind     MemberKind `json:"type"`
	ID       int64      `json:"id"`
	PublicID string     `json:"public_id,omitempty"`
}

// MemberInput is one member as the request named it, resolved by the
// caller: Ref is what the client wrote (a catalog plan's public id, or a
// payment plan's id in decimal), ID the internal id it names in the account
// (0 when no such plan exists there, or it is deleted).
type MemberInput struct {
	Kind string // "" means catalog_plan
	Ref  string
	ID   int64
}

// PlanGroupCreated records a new plan group.
type PlanGroupCreated struct {
	PlanGroupID int64         `json:"plan_group_id"`
	AccountID   int64         `json:"account_id"`
	PublicID    uuid.UUID     `json:"id"`
	Name        string        `json:"name"`
	Members     []GroupMember `json:"members"`
	CreatedAt   time.Time     `json:"created_at"`
}

// EventType returns EventPlanGroupCreated.
func (PlanGroupCreated) EventType() string { return EventPlanGroupCreated }

// PlanGroupUpdated records a group's new name and members, each replacing
// the old as a whole.
type PlanGroupUpdated struct {
	Name      string        `json:"name"`
	Members   []GroupMember `json:"members"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// EventType returns EventPlanGroupUpdated.
func (PlanGroupUpdated) EventType() string { return EventPlanGroupUpdated }

// PlanGroupDeleted records a group's deletion; its plans are untouched.
type PlanGroupDeleted struct {
	DeletedAt time.Time `json:"deleted_at"`
}

// EventType returns EventPlanGroupDeleted.
func (PlanGroupDeleted) EventType() string { return EventPlanGroupDeleted }

// PlanGroup is the plan group aggregate, folded from its events.
type PlanGroup struct {
	version              int64
	id, accountID        int64
	publicID             uuid.UUID
	name                 string
	members              []GroupMember
	createdAt, updatedAt time.Time
	deletedAt            time.Time
}

// ApplyStored folds one stored event into g; an event of another aggregate
// or out of order is an error.
func (g *PlanGroup) ApplyStored(e Event, at time.Time) error {
	switch e := e.(type) {
	case PlanGroupCreated:
		if g.version != 0 {
			return fmt.Errorf("plan_group.created at version %d of plan group %d", g.version+1, g.id)
		}
		g.id, g.accountID, g.publicID, g.name = e.PlanGroupID, e.AccountID, e.PublicID, e.Name
		g.members, g.createdAt, g.updatedAt = slices.Clone(e.Members), e.CreatedAt, e.CreatedAt
	case PlanGroupUpdated:
		if g.version == 0 {
			return errors.New("plan_group.updated before plan_group.created")
		}
		g.name, g.members, g.updatedAt = e.Name, slices.Clone(e.Members), e.UpdatedAt
	case PlanGroupDeleted:
		if g.version == 0 {
			return errors.New("plan_group.deleted before plan_group.created")
		}
		g.deletedAt, g.updatedAt = e.DeletedAt, e.DeletedAt
	default:
		return fmt.Errorf("%s cannot be applied to a plan group", e.EventType())
	}
	g.version++
	if !at.IsZero() {
		g.updatedAt = at
	}
	return nil
}

// CreatePlanGroup is the command to create a plan group; the caller
// allocates both ids and resolves the members.
type CreatePlanGroup struct {
	PlanGroupID, AccountID int64
	ID                     uuid.UUID
	Name                   string
	Members                []MemberInput
	Now                    time.Time
}

// Create decides the creation of g.
func (g *PlanGroup) Create(cmd CreatePlanGroup) ([]Event, error) {
	if g.version > 0 {
		return nil, ErrPlanGroupExists
	}
	if err := checkNow(cmd.Now); err != nil {
		return nil, err
	}
	var ve ValidationError
	if cmd.ID == uuid.Nil {
		ve.Require("id")
	}
	name, members := checkGroup(&ve, cmd.Name, cmd.Members)
	if err := ve.OrNil(); err != nil {
		return nil, err
	}
	return []Event{PlanGroupCreated{PlanGroupID: cmd.PlanGroupID, AccountID: cmd.AccountID, PublicID: cmd.ID,
		Name: name, Members: members, CreatedAt: cmd.Now.UTC()}}, nil
}

// UpdatePlanGroup replaces a group's name and members.
type UpdatePlanGroup struct {
	Name    string
	Members []MemberInput
	Now     time.Time
}

// Update decides the replacement of g's name and members: no events when
// neither changes.
func (g *PlanGroup) Update(cmd UpdatePlanGroup) ([]Event, error) {
	if err := g.live(); err != nil {
		return nil, err
	}
	if err := checkNow(cmd.Now); err != nil {
		return nil, err
	}
	var ve ValidationError
	name, members := checkGroup(&ve, cmd.Name, cmd.Members)
	if err := ve.OrNil(); err != nil {
		return nil, err
	}
	if name == g.name && slices.Equal(members, g.members) {
		return nil, nil
	}
	return []Event{PlanGroupUpdated{Name: name, Members: members, UpdatedAt: cmd.Now.UTC()}}, nil
}

// DeletePlanGroup deletes a group.
type DeletePlanGroup struct{ Now time.Time }

// Delete decides the deletion of g.
func (g *PlanGroup) Delete(cmd DeletePlanGroup) ([]Event, error) {
	if err := g.live(); err != nil {
		return nil, err
	}
	if err := checkNow(cmd.Now); err != nil {
		return nil, err
	}
	return []Event{PlanGroupDeleted{DeletedAt: cmd.Now.UTC()}}, nil
}

func (g *PlanGroup) live() error {
	switch {
	case g.version == 0:
		return ErrPlanGroupNotFound
	case !g.deletedAt.IsZero():
		return &NotFoundError{Msg: "The plan group was deleted."}
	}
	return nil
}

// checkGroup validates a group's name (required, at most MaxNameLen) and
// members (at most MaxGroupMembers, each existing, none twice), recording
// member problems under "plans.{i}.id" (the plan groups API's names).
func checkGroup(ve *ValidationError, name string, in []MemberInput) (string, []GroupMember) {
	name = CheckText(ve, "name", name, SingleLine, MaxNameLen)
	if name == "" && ve.Fields["name"] == nil {
		ve.Require("name")
	}
	if len(in) > MaxGroupMembers {
		ve.AddRule("plans", CodeTooMany, "may not have more than "+strconv.Itoa(MaxGroupMembers)+" items.")
		return name, nil
	}
	members := make([]GroupMember, 0, len(in))
	seen := map[GroupMember]bool{}
	for i, m := range in {
		field := "plans." + strconv.Itoa(i)
		kind := MemberKind(m.Kind)
		if kind == "" {
			kind = CatalogPlanMember
		}
		ref := CheckText(ve, field+".id", m.Ref, SingleLine, MaxCatalogTextLen)
		switch {
		case kind != CatalogPlanMember && kind != PaymentPlanMember:
			ve.AddRule(field+".type", CodeNotOneOf, "must be one of: catalog_plan, payment_plan.")
			continue
		case ref == "":
			ve.Require(field + ".id")
			continue
		case m.ID <= 0:
			ve.AddRule(field+".id", CodeInvalid, "names a plan that does not exist: "+strconv.Quote(ref)+".")
			continue
		}
		gm := GroupMember{Kind: kind, ID: m.ID}
		if kind == CatalogPlanMember {
			gm.PublicID = ref
		}
		key := GroupMember{Kind: kind, ID: m.ID}
		if seen[key] {
			ve.AddRule(field+".id", CodeInvalid, "is listed twice.")
			continue
		}
		seen[key] = true
		members = append(members, gm)
	}
	return name, members
}

// ID is the internal id (the stream's); PublicID the UUID clients use.
func (g *PlanGroup) ID() int64 { return g.id }

// PublicID is the group's UUID.
func (g *PlanGroup) PublicID() uuid.UUID { return g.publicID }

// AccountID is the owning account.
func (g *PlanGroup) AccountID() int64 { return g.accountID }

// Name is the group's name.
func (g *PlanGroup) Name() string { return g.name }

// Members returns a copy of the members, in order.
func (g *PlanGroup) Members() []GroupMember { return slices.Clone(g.members) }

// Version is the number of events folded.
func (g *PlanGroup) Version() int64 { return g.version }

// Deleted reports whether the group was deleted.
func (g *PlanGroup) Deleted() bool { return !g.deletedAt.IsZero() }

// CreatedAt, UpdatedAt and DeletedAt are the group's times.
func (g *PlanGroup) CreatedAt() time.Time { return g.createdAt }

// UpdatedAt is the time of the last event.
func (g *PlanGroup) UpdatedAt() time.Time { return g.updatedAt }

// DeletedAt is when the group was deleted, zero if it was not.
func (g *PlanGroup) DeletedAt() time.Time { return g.deletedAt }
