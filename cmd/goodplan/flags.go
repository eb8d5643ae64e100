package main

import (
	"errors"
	"strconv"
)

// optionalCount is a flag of a whole number 0 or more that may be left
// out, such as --plan-limit (left out: unlimited). Its zero value is
// "not given", so the flag's usage shows no "(default ...)" of its own.
type optionalCount struct {
	n   int64
	set bool
}

// String implements flag.Value: the number, or "" when not given.
func (o *optionalCount) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatInt(o.n, 10)
}

// Set implements flag.Value.
func (o *optionalCount) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return errors.New("want a whole number, 0 or more")
	}
	o.n, o.set = n, true
	return nil
}
