package domain

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Bounds of an account's email settings.
const (
	MaxNotifyEmails  = 5   // notification addresses of an account
	MaxSenderNameLen = 100 // the sender name on customer emails
)

// EmailSettings are an account's settings for the emails goodplan sends
// about its plans. The zero value is the default: no sender name (the
// EMAIL_FROM name is used), no notification address (the merchant is not
// notified), every customer email on.
type EmailSettings struct {
	// SenderName is the display name in the From of customer emails; ""
	// keeps EMAIL_FROM's.
	SenderName string
	// NotifyEmails are the merchant's notification addresses, 0 to
	// MaxNotifyEmails.
	NotifyEmails []string
	// CustomerEmailsOff are the customer emails switched off, in
	// CustomerEmailKinds order; every other one is on.
	CustomerEmailsOff []PlanEmailKind
}

// CustomerEmailOn reports whether customer email k is switched on.
func (s EmailSettings) CustomerEmailOn(k PlanEmailKind) bool {
	return !slices.Contains(s.CustomerEmailsOff, k)
}

// EmailSettingsChange is a change of EmailSettings as typed by a person
// (raw text, checked by Change): a nil field leaves the setting as it is.
type EmailSettingsChange struct {
	SenderName   *string
	NotifyEmails *[]string // the whole new list
	// CustomerEmails switches customer emails on (true) or off (false) by
	// kind name; kinds not named are left as they are.
	CustomerEmails map[string]bool
}

// Change returns s with c applied. Every problem is reported at once in a
// *ValidationError: the sender name must be a single line (CheckText) of at
// most MaxSenderNameLen characters without "=?" (it goes into a header);
// each notification address is checked as customer.email is, at most
// MaxNotifyEmails of them and none twice (fields "notify_emails.N"); each
// kind must be one of CustomerEmailKinds (field "customer_emails.KIND").
func (s EmailSettings) Change(c EmailSettingsChange) (EmailSettings, error) {
	var ve ValidationError
	out := EmailSettings{SenderName: s.SenderName, NotifyEmails: slices.Clone(s.NotifyEmails),
		CustomerEmailsOff: slices.Clone(s.CustomerEmailsOff)}
	if c.SenderName != nil {
		out.SenderName = CheckText(&ve, "sender_name", *c.SenderName, SingleLine, MaxSenderNameLen)
		if ve.Fields["sender_name"] == nil && strings.Contains(out.SenderName, "=?") {
			ve.AddRule("sender_name", CodeInvalid, `may not contain "=?" (it would read as an encoded email header).`)
		}
	}
	if c.NotifyEmails != nil {
		out.NotifyEmails = checkNotifyEmails(&ve, *c.NotifyEmails)
	}
	kinds := make([]string, 0, len(c.CustomerEmails))
	for k := range c.CustomerEmails {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds) // one order of problems, whatever the map's
	for _, name := range kinds {
		k := PlanEmailKind(name)
		if !slices.Contains(CustomerEmailKinds, k) {
			ve.Add("customer_emails."+name, "The customer email "+strconv.Quote(name)+" is not one of "+kindList()+".")
			continue
		}
		out.CustomerEmailsOff = slices.DeleteFunc(out.CustomerEmailsOff, func(o PlanEmailKind) bool { return o == k })
		if !c.CustomerEmails[name] {
			out.CustomerEmailsOff = append(out.CustomerEmailsOff, k)
		}
	}
	slices.SortFunc(out.CustomerEmailsOff, func(a, b PlanEmailKind) int {
		return slices.Index(CustomerEmailKinds, a) - slices.Index(CustomerEmailKinds, b)
	})
	if err := ve.OrNil(); err != nil {
		return s, err
	}
	return out, nil
}

// checkNotifyEmails cleans and checks the notification addresses.
func checkNotifyEmails(ve *ValidationError, in []string) []string {
	if len(in) > MaxNotifyEmails {
		ve.Add("notify_emails", "An account may have at most "+strconv.Itoa(MaxNotifyEmails)+" notification addresses.")
		return nil
	}
	out := make([]string, 0, len(in))
	for i, raw := range in {
		field := "notify_emails." + strconv.Itoa(i)
		addr := CheckText(ve, field, raw, SingleLine, math.MaxInt)
		switch {
		case ve.Fields[field] != nil:
		case !validEmail(addr):
			ve.Add(field, "The "+field+" must be a valid email address.")
		case slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, addr) }):
			ve.Add(field, "The "+field+" is listed twice.")
		}
		out = append(out, addr)
	}
	return out
}

func kindList() string {
	names := make([]string, len(CustomerEmailKinds))
	for i, k := range CustomerEmailKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// MaxReminderDays is the most days before a due date a customer can be
// reminded (accounts.reminder_days' CHECK).
const MaxReminderDays = 30

// CheckAccountName cleans an account's name as typed by a person and adds
// its problem to ve under field: required, a single line (CheckText) of at
// most MaxNameLen characters.
func CheckAccountName(ve *ValidationError, field, name string) string {
	name = CheckText(ve, field, name, SingleLine, MaxNameLen)
	if ve.Fields[field] == nil && name == "" {
		ve.Require(field)
	}
	return name
}

// CheckReminderDays reads the days before each due date the customer is
// reminded, as typed by a person (a whole number from 0, no reminder, to
// MaxReminderDays), adding its problem to ve under field.
func CheckReminderDays(ve *ValidationError, field, raw string) int {
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || n < 0 || n > MaxReminderDays {
		ve.Add(field, "The "+field+" must be a whole number from 0 to "+strconv.Itoa(MaxReminderDays)+".")
		return 0
	}
	return n
}
