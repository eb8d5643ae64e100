package templates

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// WCAG 2.1 AA (success criterion 1.4.3) asks for a contrast ratio of at
// least 4.5:1 between text and its background. These tests compute it from
// the stylesheets as served, so a colour changed in portal.css that some
// text can no longer be read against fails here, before Lighthouse.

// minContrast is WCAG 2.1 AA's minimum for normal-size text.
const minContrast = 4.5

// rgb is an opaque sRGB colour, each channel 0..255.
type rgb struct{ r, g, b uint8 }

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// luminance is c's relative luminance (WCAG 2.1's definition, sRGB).
func (c rgb) luminance() float64 {
	channel := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(c.r) + 0.7152*channel(c.g) + 0.0722*channel(c.b)
}

// contrast is the WCAG contrast ratio of a and b, 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// parseHex parses #rgb or #rrggbb.
func parseHex(s string) (rgb, error) {
	h, ok := strings.CutPrefix(s, "#")
	if ok && len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if !ok || len(h) != 6 || err != nil {
		return rgb{}, fmt.Errorf("colour %q is not #rgb or #rrggbb", s)
	}
	return rgb{uint8(n >> 16), uint8(n >> 8), uint8(n)}, nil
}

// cssRule is one rule of a stylesheet: its selector list as written and
// its declarations (property -> value).
type cssRule struct {
	selector string
	decls    map[string]string
}

// parseCSS splits a stylesheet into its rules; the rules inside an @media
// block are read as if they stood at the top level.
func parseCSS(css string) ([]cssRule, error) {
	for {
		start := strings.Index(css, "/*")
		if start < 0 {
			break
		}
		end := strings.Index(css[start:], "*/")
		if end < 0 {
			return nil, fmt.Errorf("unterminated comment")
		}
		css = css[:start] + css[start+end+2:]
	}
	var rules []cssRule
	for s := strings.TrimSpace(css); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '}' { // the end of an @media block
			s = s[1:]
			continue
		}
		open := strings.IndexByte(s, '{')
		if open < 0 {
			return nil, fmt.Errorf("text without a rule: %.40q", s)
		}
		selector := strings.TrimSpace(s[:open])
		if strings.HasPrefix(selector, "@") { // its rules follow
			s = s[open+1:]
			continue
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("rule %q is not closed", selector)
		}
		rule := cssRule{selector: selector, decls: map[string]string{}}
		for _, d := range strings.Split(s[open+1:open+end], ";") {
			prop, value, ok := strings.Cut(d, ":")
			if ok {
				rule.decls[strings.TrimSpace(prop)] = strings.TrimSpace(value)
			}
		}
		rules = append(rules, rule)
		s = s[open+end+1:]
	}
	return rules, nil
}

// stylesheet is a parsed stylesheet whose colours can be resolved.
type stylesheet struct {
	rules []cssRule
	vars  map[string]string // the custom properties of :root
}

func newStylesheet(css string) (*stylesheet, error) {
	rules, err := parseCSS(css)
	if err != nil {
		return nil, err
	}
	ss := &stylesheet{rules: rules, vars: map[string]string{}}
	for _, r := range rules {
		if r.selector == ":root" {
			for k, v := range r.decls {
				if strings.HasPrefix(k, "--") {
					ss.vars[k] = v
				}
			}
		}
	}
	return ss, nil
}

// colour resolves value (a hex colour or var(--name) of one); ok is false
// for a value that paints no colour of its own (inherit, transparent,
// currentColor).
func (ss *stylesheet) colour(value string) (c rgb, ok bool, err error) {
	for range 10 {
		name, isVar := strings.CutPrefix(value, "var(")
		if !isVar {
			break
		}
		v, found := ss.vars[strings.TrimSuffix(name, ")")]
		if !found {
			return rgb{}, false, fmt.Errorf("%s is not defined in :root", value)
		}
		value = v
	}
	switch strings.ToLower(value) {
	case "inherit", "transparent", "currentcolor":
		return rgb{}, false, nil
	}
	c, err = parseHex(value)
	return c, err == nil, err
}

// paint returns the colour rule r sets for prop ("color" or
// "background"; background-color counts as background).
func (ss *stylesheet) paint(r cssRule, prop string) (rgb, bool, error) {
	v, ok := r.decls[prop]
	if !ok && prop == "background" {
		v, ok = r.decls["background-color"]
	}
	if !ok {
		return rgb{}, false, nil
	}
	c, ok, err := ss.colour(v)
	if err != nil {
		return rgb{}, false, fmt.Errorf("%s{%s:%s}: %w", r.selector, prop, v, err)
	}
	return c, ok, nil
}

// rule returns the rule whose selector list contains selector.
func (ss *stylesheet) rule(selector string) (cssRule, bool) {
	for _, r := range ss.rules {
		for _, s := range strings.Split(r.selector, ",") {
			if strings.TrimSpace(s) == selector {
				return r, true
			}
		}
	}
	return cssRule{}, false
}

// mustPaint is paint of the rule for selector, which must set prop.
func (ss *stylesheet) mustPaint(t *testing.T, selector, prop string) rgb {
	t.Helper()
	r, ok := ss.rule(selector)
	if !ok {
		t.Fatalf("no rule for %s", selector)
	}
	c, ok, err := ss.paint(r, prop)
	if err != nil || !ok {
		t.Fatalf("%s sets no %s colour (%v)", selector, prop, err)
	}
	return c
}

// checkStylesheetContrast fails t for every text colour of css, a page's
// stylesheet, under 4.5:1 against the background it is drawn on:
//   - a rule that sets both color and background: the one on the other;
//   - a rule that sets a color alone (and the body's text colour): on each
//     surface text sits on, the backgrounds of the surfaces selectors;
//   - a rule that sets a background alone (not a pseudo-element, which
//     holds no text): the colour its text inherits, from the same
//     selector without its pseudo-classes (".btn.primary" for
//     ".btn.primary:hover") or else from the body.
//
// Every colour must be a hex colour or a var() of one, so none escapes
// the check. It returns the number of pairs checked.
func checkStylesheetContrast(t *testing.T, name, css string, surfaces ...string) int {
	t.Helper()
	ss, err := newStylesheet(css)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	bodyText := ss.mustPaint(t, "body", "color")
	var backgrounds []rgb
	for _, sel := range append([]string{"body"}, surfaces...) {
		backgrounds = append(backgrounds, ss.mustPaint(t, sel, "background"))
	}
	pairs := 0
	check := func(where string, fg, bg rgb) {
		t.Helper()
		pairs++
		if r := contrast(fg, bg); r < minContrast {
			t.Errorf("%s: %s: text %s on %s has a contrast of %.2f:1, under %.1f:1", name, where, fg, bg, r, minContrast)
		}
	}
	for _, bg := range backgrounds {
		check("body text on a surface", bodyText, bg)
	}
	for _, r := range ss.rules {
		fg, hasFG, err := ss.paint(r, "color")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bg, hasBG, err := ss.paint(r, "background")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch {
		case hasFG && hasBG:
			check(r.selector, fg, bg)
		case hasFG:
			for i, bg := range backgrounds {
				check(fmt.Sprintf("%s on %s", r.selector, append([]string{"body"}, surfaces...)[i]), fg, bg)
			}
		case hasBG && !strings.Contains(r.selector, "::"):
			inherited := bodyText
			base, _, _ := strings.Cut(r.selector, ":")
			if b, ok := ss.rule(base); ok && base != r.selector {
				if c, ok, err := ss.paint(b, "color"); err == nil && ok {
					inherited = c
				}
			}
			check(r.selector+" (inherited text)", inherited, bg)
		}
	}
	return pairs
}

// TestContrastFormula: the ratio is WCAG's, checked against known values,
// the one Lighthouse reported for the portal's grey among them.
func TestContrastFormula(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		fg, bg string
		want   float64
	}{
		{"#000", "#fff", 21},
		{"#fff", "#fff", 1},
		{"#6b7280", "#f3f4f6", 4.39}, // Lighthouse's finding on the portal
		{"#6b7280", "#ffffff", 4.83},
		{"#777777", "#ffffff", 4.48},
		{"#1d4ed8", "#ffffff", 6.70},
		{"#ffffff", "#1d4ed8", 6.70},
	} {
		fg, err := parseHex(c.fg)
		if err != nil {
			t.Fatal(err)
		}
		bg, err := parseHex(c.bg)
		if err != nil {
			t.Fatal(err)
		}
		if got := contrast(fg, bg); math.Abs(got-c.want) > 0.005 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", c.fg, c.bg, got, c.want)
		}
	}
	for _, bad := range []string{"6b7280", "#6b728", "#ggg", "rgb(1,2,3)", "#1234567"} {
		if _, err := parseHex(bad); err == nil {
			t.Errorf("parseHex(%q) accepted", bad)
		}
	}
}

// TestPortalContrast: every text colour of portal.css reads at 4.5:1 or
// more on what it is drawn on; the pairs the portal's look relies on are
// named, the grey of the fine print and the footer on the page's
// background first (4.39:1 before, Lighthouse's one finding).
func TestPortalContrast(t *testing.T) {
	t.Parallel()
	ss, err := newStylesheet(portalCSS)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ text, on string }{
		{".foot", "body"},
		{".fine", "body"},
		{".fine", ".card"},
		{".hint", ".card"},
		{".secure", ".top"},
		{".schedule th", ".card"},
		{".schedule td.n", ".card"},
		{".label", ".card"},
		{".muted", "body"},
		{".lead", "body"},
		{"a", "body"},
		{"a", ".card"},
		{".error", ".card"},
		{".stats .outstanding dd", ".card"},
	} {
		fg, bg := ss.mustPaint(t, p.text, "color"), ss.mustPaint(t, p.on, "background")
		if r := contrast(fg, bg); r < minContrast {
			t.Errorf("%s (%s) on %s (%s): %.2f:1, under %.1f:1", p.text, fg, p.on, bg, r, minContrast)
		}
	}
	if n := checkStylesheetContrast(t, "portal.css", portalCSS, ".top", ".card"); n < 60 {
		t.Fatalf("only %d colour pairs found in portal.css: is it parsed?", n)
	}
}

// TestDashboardContrast: every text colour of dashboard.css reads at 4.5:1
// or more on what it is drawn on (the page, the header, a card).
func TestDashboardContrast(t *testing.T) {
	t.Parallel()
	if n := checkStylesheetContrast(t, "dashboard.css", dashboardCSS, ".top", ".card"); n < 30 {
		t.Fatalf("only %d colour pairs found in dashboard.css: is it parsed?", n)
	}
}

// TestAPIDocsContrast: every text colour of the API reference's style
// sheet reads at 4.5:1 or more on the page, the code blocks and the table
// headers.
func TestAPIDocsContrast(t *testing.T) {
	t.Parallel()
	if n := checkStylesheetContrast(t, "apidocs.css", apiDocsCSS, "pre", "th"); n < 10 {
		t.Fatalf("only %d colour pairs found in apidocs.css: is it parsed?", n)
	}
}
