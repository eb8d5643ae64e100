package projections

import (
	"encoding/json"
	"fmt"
	"time"
)

// A page of GET /api/v1/plans is 20 plans of a few kilobytes of JSON each.
// Decoding the row's jsonb columns into Go values and encoding them again
// was most of a page's Go time, so each row also holds its list item's
// JSON (column list_item, migration 024), written with the row (by the
// projection and by replay, from the same bytes as its jsonb columns), and
// a page writes those bytes as they are.
//
// The item is json.Marshal(Detail) of the row, byte for byte, except its
// start: customer_portal_url is under the server's PUBLIC_URL, which the
// row cannot know, so list_item is the JSON after that URL (from
// `,"customer":` to the closing brace), and appendListItem writes the
// start from the row's plan_id, status and portal_token.

// listItemTail is the JSON of r as a list item after its
// customer_portal_url (see above), from r's columns as they are stored
// (call it after r.storable()). createdAt and updatedAt are the plan's
// times, as PostgreSQL keeps them (microseconds) and pgx reads them (UTC).
func listItemTail(r *planRow) []byte {
	w := jsonWriter{b: make([]byte, 0, 64+len(r.Customer)+len(r.Invoice)+len(r.Options)+len(r.IntroEmail)+len(r.Lifecycle)), ok: true}
	w.raw(`,"customer":`)
	w.raw(string(r.Customer))
	w.raw(`,"invoice":`)
	w.raw(string(r.Invoice))
	w.raw(`,"plan_options":`)
	w.raw(string(r.Options))
	w.raw(`,"selected_option_id":`)
	if r.SelectedOptionID == nil {
		w.raw("null")
	} else {
		w.int(*r.SelectedOptionID)
	}
	w.raw(`,"send_introduction_email":`)
	if r.SendIntro {
		w.raw("true")
	} else {
		w.raw("false")
	}
	w.raw(`,"introduction_email":`)
	w.raw(string(r.IntroEmail))
	// Lifecycle is embedded in Detail: its fields, without its braces.
	if l := r.Lifecycle; len(l) > 2 {
		w.raw(`,`)
		w.raw(string(l[1 : len(l)-1]))
	}
	w.raw(`,"created_at":`)
	w.time(storedTime(r.CreatedAt))
	w.raw(`,"updated_at":`)
	w.time(storedTime(r.UpdatedAt))
	w.raw(`,"version":`)
	w.int(r.Version)
	w.raw(`}`)
	return w.b
}

// storedTime is t as a timestamptz column gives it back through pgx:
// truncated to microseconds (pgx's binary encoding), in UTC.
func storedTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// appendListItem appends the list item of a row (its plan id, status,
// portal token and list_item tail) to dst.
func appendListItem(dst []byte, planID int64, status, portalToken, publicURL string, tail []byte) []byte {
	w := jsonWriter{b: dst, ok: true}
	w.raw(`{"plan_id":`)
	w.int(planID)
	w.raw(`,"status":`)
	w.string(status)
	w.raw(`,"customer_portal_url":`)
	w.string(PortalURL(publicURL, portalToken))
	w.b = append(w.b, tail...)
	return w.b
}

// marshalItem is d as a list item, for rows without a list_item (written
// before migration 024) and plans folded from the store.
func marshalItem(d Detail) (json.RawMessage, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("plan %d: %w", d.PlanID, err)
	}
	return b, nil
}
