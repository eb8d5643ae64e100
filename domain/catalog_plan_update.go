package domain

import (
	"maps"
	"time"
)

// UpdateCatalogPlan changes what may change of a catalog plan; a nil field
// is left as it is. Metadata replaces the whole map. Price, currency,
// interval and tiers never change: a new price is a new plan.
type UpdateCatalogPlan struct {
	Name, Description, InvoiceDisplayName *string
	Metadata                              *map[string]string
	Active                                *bool
	Now                                   time.Time
}

// errCatalogPlanDeleted is what a command on a deleted plan returns: the
// plan is gone for every surface, as if it did not exist.
func errCatalogPlanDeleted() error { return &NotFoundError{Msg: "The catalog plan was deleted."} }

// Update decides an update of p: ErrCatalogPlanNotFound on a plan never
// created, a *NotFoundError on a deleted one, a *ValidationError for bad
// values, no events when nothing changes, catalog_plan.updated otherwise
// (carrying only the fields that change).
func (p *CatalogPlan) Update(cmd UpdateCatalogPlan) ([]Event, error) {
	if err := p.live(); err != nil {
		return nil, err
	}
	if err := checkNow(cmd.Now); err != nil {
		return nil, err
	}
	var ve ValidationError
	e := CatalogPlanUpdated{UpdatedAt: cmd.Now.UTC()}
	changed := false
	text := func(field string, in *string, kind TextKind, maxLen int, cur string) *string {
		if in == nil {
			return nil
		}
		v := CheckText(&ve, field, *in, kind, maxLen)
		if v == cur {
			return nil
		}
		changed = true
		return &v
	}
	e.Name = text("name", cmd.Name, SingleLine, MaxCatalogTextLen, p.created.Name)
	e.Description = text("description", cmd.Description, MultiLine, MaxDescriptionLen, p.created.Description)
	e.InvoiceDisplayName = text("invoice_display_name", cmd.InvoiceDisplayName, SingleLine, MaxCatalogTextLen, p.created.InvoiceDisplayName)
	if cmd.Metadata != nil {
		m := CheckMetadata(&ve, "metadata", *cmd.Metadata)
		if !maps.Equal(m, p.created.Metadata) {
			e.Metadata, changed = &m, true
		}
	}
	if cmd.Active != nil && *cmd.Active != p.created.Active {
		a := *cmd.Active
		e.Active, changed = &a, true
	}
	if err := ve.OrNil(); err != nil {
		return nil, err
	}
	if !changed {
		return nil, nil
	}
	return []Event{e}, nil
}

// DeleteCatalogPlan deletes a catalog plan (softly: its history stays).
type DeleteCatalogPlan struct {
	Now time.Time
}

// Delete decides the deletion of p: ErrCatalogPlanNotFound on a plan never
// created, a *NotFoundError on one already deleted, catalog_plan.deleted
// otherwise.
func (p *CatalogPlan) Delete(cmd DeleteCatalogPlan) ([]Event, error) {
	if err := p.live(); err != nil {
		return nil, err
	}
	if err := checkNow(cmd.Now); err != nil {
		return nil, err
	}
	return []Event{CatalogPlanDeleted{DeletedAt: cmd.Now.UTC()}}, nil
}

// live returns the error of a command on a plan that is not there.
func (p *CatalogPlan) live() error {
	switch {
	case !p.Exists():
		return ErrCatalogPlanNotFound
	case p.Deleted():
		return errCatalogPlanDeleted()
	}
	return nil
}
