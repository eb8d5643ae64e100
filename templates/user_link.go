package templates

import "fmt"

// The kinds of a merchant user's one-time link, spelled as
// eventstore.TokenInvite and TokenReset spell them.
const (
	UserLinkInvite = "invite" // a new user's invitation to the dashboard
	UserLinkReset  = "reset"  // a password reset the user asked for
)

// userLink is the one-time link email to a merchant's dashboard user.
var userLink = parseEmail("user_link")

// UserLinkData is what a user's link email shows: the link's Kind, the
// account's name, the user's name (may be empty) and email, and URL, the
// one-time link.
type UserLinkData struct {
	Kind                         string
	AccountName, UserName, Email string
	URL                          string
}

type userLinkView struct {
	UserLinkData
	Subject string
}

// UserLink renders a user's invitation or password reset email. The
// subject never contains a line break or a control character, whatever
// the names hold; the HTML is escaped by html/template. It returns an
// error for an unknown kind or if a template fails to execute.
func UserLink(d UserLinkData) (Rendered, error) {
	if d.Kind != UserLinkInvite && d.Kind != UserLinkReset {
		return Rendered{}, fmt.Errorf("render user link: unknown kind %q", d.Kind)
	}
	v := userLinkView{UserLinkData: UserLinkData{Kind: d.Kind, AccountName: singleLine(d.AccountName),
		UserName: singleLine(d.UserName), Email: singleLine(d.Email), URL: singleLine(d.URL)}}
	return userLink.render(&v, func(s string) { v.Subject = s })
}
