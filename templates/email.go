package templates

import (
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// emailTemplates are the three parts of one customer email: a subject and a
// plain-text body (text/template) and an HTML body (html/template). The
// bodies are drawn in the shared frame of layout.txt.tmpl and
// layout.html.tmpl.
type emailTemplates struct {
	name          string
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

// parseEmail parses email/{name}.subject.tmpl, email/{name}.txt.tmpl and
// email/{name}.html.tmpl with the layouts; it panics if one does not parse.
func parseEmail(name string) emailTemplates {
	file := func(part string) string { return name + "." + part + ".tmpl" }
	return emailTemplates{
		name: name,
		subject: texttemplate.Must(texttemplate.New(file("subject")).Option("missingkey=error").Funcs(emailTextFuncs).
			ParseFS(files, "email/"+file("subject"))),
		// The layout first: a "footer" the email's file defines replaces
		// the layout's default (the last definition parsed wins).
		text: texttemplate.Must(texttemplate.New(file("txt")).Option("missingkey=error").Funcs(emailTextFuncs).
			ParseFS(files, "email/layout.txt.tmpl", "email/"+file("txt"))),
		html: htmltemplate.Must(htmltemplate.New(file("html")).Option("missingkey=error").Funcs(emailHTMLFuncs).
			ParseFS(files, "email/layout.html.tmpl", "email/"+file("html"))),
	}
}

// render executes the subject on v, makes it one line and hands it to
// setSubject (so the bodies can show it, as the HTML <title>), then executes
// the bodies on v.
func (t emailTemplates) render(v any, setSubject func(string)) (Rendered, error) {
	var subject, text, html strings.Builder
	if err := t.subject.Execute(&subject, v); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", t.name, err)
	}
	// The subject templates are one line already; this also removes
	// anything a future edit of a template might let through.
	s := singleLine(subject.String())
	setSubject(s)
	if err := t.text.Execute(&text, v); err != nil {
		return Rendered{}, fmt.Errorf("render %s text: %w", t.name, err)
	}
	if err := t.html.Execute(&html, v); err != nil {
		return Rendered{}, fmt.Errorf("render %s html: %w", t.name, err)
	}
	return Rendered{Subject: s, Text: text.String(), HTML: html.String()}, nil
}
