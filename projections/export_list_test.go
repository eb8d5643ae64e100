package projections

// ListSQL is the page query of q and its arguments (the filter, cursor,
// limit and offset), for the index tests.
func (p *Plans) ListSQL(q ListQuery) (string, []any) {
	where, args := q.filter()
	return p.pageSQL(q, where, args)
}

// CountSQL is the count query of a filtered list, for the index tests.
func (p *Plans) CountSQL(q ListQuery) (string, []any) {
	where, args := q.filter()
	return `SELECT count(*) FROM ` + p.table + ` WHERE ` + where, args
}
