package templates

import (
	"embed"
	htmltemplate "html/template"
	"io"
)

// The API reference page (/api/docs): one server-rendered page from the
// OpenAPI document, no script, no external asset.

//go:embed apidocs/*.html apidocs/apidocs.css
var apiDocsFiles embed.FS

var apiDocsCSS = embeddedAsset(apiDocsFiles, "apidocs/apidocs.css")

// APIDocsContentSecurityPolicy is the Content-Security-Policy of the API
// reference: only its inline style sheet (by hash), no script.
var APIDocsContentSecurityPolicy = "default-src 'none'; style-src '" + portalCSSHash(apiDocsCSS) +
	"'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

var apiDocsPage = layoutPage(apiDocsFiles, htmltemplate.FuncMap{
	"css":  func() htmltemplate.CSS { return htmltemplate.CSS(apiDocsCSS) },
	"dict": apiDocsDict,
}, "apidocs/layout.html", "apidocs/docs.html")

// APIDocs is what the API reference shows, built from the OpenAPI
// document.
type APIDocs struct {
	Title, Version, Description string
	DocumentURL                 string // the JSON document, e.g. /api/openapi.json
	Tags                        []APIDocsTag
	Webhooks                    []APIDocsOperation
	Schemas                     []APIDocsSchema
}

// APIDocsTag is a group of operations.
type APIDocsTag struct {
	Name, Description string
	Operations        []APIDocsOperation
}

// APIDocsOperation is one method on one path.
type APIDocsOperation struct {
	Anchor, Method, Path, Summary, Description string
	Auth                                       string // e.g. "Bearer API key", "none"
	Params                                     []APIDocsField
	Body                                       *APIDocsBody
	Responses                                  []APIDocsResponse
}

// APIDocsField is a parameter or a schema property.
type APIDocsField struct {
	Name, In, Description string
	Type                  APIDocsType
	Required              bool
}

// APIDocsType is a schema's type as text, with the name of the component
// schema it refers to (linked on the page), if any.
type APIDocsType struct{ Text, Ref string }

// APIDocsBody is a request body.
type APIDocsBody struct {
	Required     bool
	ContentTypes []string
	Type         APIDocsType
	Examples     []APIDocsExample
}

// APIDocsResponse is one status of an operation.
type APIDocsResponse struct {
	Status, Description string
	Type                APIDocsType // Text empty: no body
	Headers             []string
	Examples            []APIDocsExample
}

// APIDocsExample is an example value, as indented JSON.
type APIDocsExample struct{ Summary, JSON string }

// APIDocsSchema is a component schema: its properties, or its JSON.
type APIDocsSchema struct {
	Name, Description string
	Type              APIDocsType
	Properties        []APIDocsField
	JSON              string // for schemas that are not plain objects
}

// RenderAPIDocs writes the API reference for v. It returns an error only
// if the template fails; nothing is written then.
func RenderAPIDocs(w io.Writer, v APIDocs) error { return executeLayout(w, apiDocsPage, v) }

// apiDocsDict makes a map of key, value pairs, to pass two values to a
// template.
func apiDocsDict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		m[k] = kv[i+1]
	}
	return m
}
