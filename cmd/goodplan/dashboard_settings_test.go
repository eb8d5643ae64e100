package main

import "testing"

// TestDashboardSettingsAccessibility: the owner's Settings page (the
// account and email forms, with their checkboxes) and the users' page
// score 100 for accessibility in Lighthouse.
func TestDashboardSettingsAccessibility(t *testing.T) {
	t.Parallel()
	srv, _, cookie := startDashboardOwner(t)
	checkAccessibility(t, srv.URL+"/dashboard/settings", cookie)
	checkAccessibility(t, srv.URL+"/dashboard/settings/users", cookie)
}
