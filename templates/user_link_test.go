package templates

import (
	"strings"
	"testing"
)

func TestUserLink(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{UserLinkInvite, UserLinkReset} {
		r, err := UserLink(UserLinkData{Kind: kind, AccountName: "Acme <b>\r\nBcc: x@y.z", UserName: "Ann", Email: "ann@example.com",
			URL: "https://pay.example.com/dashboard/" + kind + "/TOKEN"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(r.Subject, "\r\n") || r.Subject == "" {
			t.Fatalf("%s subject %q", kind, r.Subject)
		}
		for _, body := range []string{r.Text, r.HTML} {
			if !strings.Contains(body, "https://pay.example.com/dashboard/"+kind+"/TOKEN") || !strings.Contains(body, "ann@example.com") ||
				!strings.Contains(body, "within an hour") {
				t.Fatalf("%s body lacks the link, the email or the hour:\n%s", kind, body)
			}
		}
		if strings.Contains(r.HTML, "<b>") || !strings.Contains(r.HTML, "Acme &lt;b&gt;") {
			t.Fatalf("%s HTML does not escape the account name:\n%s", kind, r.HTML)
		}
	}
	if !strings.Contains(mustUserLink(t, UserLinkInvite).Subject, "invited") || !strings.Contains(mustUserLink(t, UserLinkReset).Subject, "Reset") {
		t.Fatal("subjects do not tell an invitation from a reset")
	}
	if _, err := UserLink(UserLinkData{Kind: "other"}); err == nil {
		t.Fatal("unknown kind rendered")
	}
}

func mustUserLink(t *testing.T, kind string) Rendered {
	t.Helper()
	r, err := UserLink(UserLinkData{Kind: kind, AccountName: "Acme", Email: "a@example.com", URL: "https://x.example/l"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
