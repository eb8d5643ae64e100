package projections

import "testing"

// TestCatalogOrder: a search's ORDER BY is made only of the known columns'
// expressions and always ends with the internal id, in the direction of
// the first key; any other column is refused before it reaches SQL.
func TestCatalogOrder(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		keys []CatalogSortKey
		want string
	}{
		{nil, "catalog_plan_id DESC"},
		{[]CatalogSortKey{{Column: "name"}}, `(plan->>'name') COLLATE "C" ASC NULLS LAST, catalog_plan_id ASC`},
		{[]CatalogSortKey{{Column: "amount", Desc: true}, {Column: "id"}},
			`(plan->>'amount')::numeric DESC NULLS LAST, public_id COLLATE "C" ASC NULLS LAST, catalog_plan_id DESC`},
	} {
		got, err := catalogOrder(c.keys)
		if err != nil || got != c.want {
			t.Errorf("catalogOrder(%v) = %q, %v; want %q", c.keys, got, err, c.want)
		}
	}
	for _, col := range []string{"metadata", "tiers", "object", "deleted_at", "name; DROP TABLE events", ""} {
		if CatalogSortable(col) {
			t.Errorf("%q is sortable", col)
		}
		if got, err := catalogOrder([]CatalogSortKey{{Column: "name"}, {Column: col}}); err == nil {
			t.Errorf("catalogOrder with %q = %q, want an error", col, got)
		}
	}
}
