package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"goodplan/templates"
)

// apiDocsView turns the OpenAPI document into the reference page's values:
// operations grouped by tag (in the document's tag order, then by path
// and method), the webhooks goodplan sends, and the component schemas.
func apiDocsView(doc []byte) (templates.APIDocs, error) {
	var d oaDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return templates.APIDocs{}, fmt.Errorf("openapi document: %w", err)
	}
	v := templates.APIDocs{Title: d.Info.Title, Version: d.Info.Version, Description: d.Info.Description, DocumentURL: OpenAPIPath}
	byTag := map[string][]templates.APIDocsOperation{}
	for _, path := range oaSortedKeys(d.Paths) {
		for _, method := range httpMethods {
			o, ok := d.Paths[path][strings.ToLower(method)]
			if !ok {
				continue
			}
			tag := "Other"
			if len(o.Tags) > 0 {
				tag = o.Tags[0]
			}
			byTag[tag] = append(byTag[tag], d.operation(method, path, o))
		}
	}
	for _, t := range d.Tags {
		if ops := byTag[t.Name]; len(ops) > 0 {
			v.Tags = append(v.Tags, templates.APIDocsTag{Name: t.Name, Description: t.Description, Operations: ops})
		}
	}
	for _, name := range oaSortedKeys(d.Webhooks) {
		for _, method := range httpMethods {
			if o, ok := d.Webhooks[name][strings.ToLower(method)]; ok {
				op := d.operation(method, "(your endpoint URL)", o)
				op.Anchor = "webhook-" + name
				v.Webhooks = append(v.Webhooks, op)
			}
		}
	}
	for _, name := range oaSortedKeys(d.Components.Schemas) {
		s := d.Components.Schemas[name]
		vs := templates.APIDocsSchema{Name: name, Description: s.Description, Type: schemaType(s)}
		if len(s.Properties) > 0 {
			vs.Properties = fieldsOf(s)
		} else {
			vs.JSON = indentJSON(s.raw)
		}
		v.Schemas = append(v.Schemas, vs)
	}
	return v, nil
}

var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

func (d *oaDoc) operation(method, path string, o oaOperation) templates.APIDocsOperation {
	op := templates.APIDocsOperation{Anchor: o.OperationID, Method: method, Path: path, Summary: o.Summary,
		Description: o.Description, Auth: d.auth(o.Security)}
	for _, p := range o.Parameters {
		if p.Ref != "" {
			p = d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		}
		op.Params = append(op.Params, templates.APIDocsField{Name: p.Name, In: p.In, Description: p.Description,
			Type: schemaType(p.Schema), Required: p.Required})
	}
	if b := o.RequestBody; b != nil {
		body := &templates.APIDocsBody{Required: b.Required, ContentTypes: oaSortedKeys(b.Content)}
		for _, ct := range body.ContentTypes {
			body.Type = schemaType(b.Content[ct].Schema)
			body.Examples = append(body.Examples, examplesOf(b.Content[ct])...)
			break
		}
		op.Body = body
	}
	for _, status := range oaSortedKeys(o.Responses) {
		r := o.Responses[status]
		if r.Ref != "" {
			r = d.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
		}
		vr := templates.APIDocsResponse{Status: status, Description: r.Description, Headers: oaSortedKeys(r.Headers)}
		for _, ct := range oaSortedKeys(r.Content) {
			vr.Type = schemaType(r.Content[ct].Schema)
			vr.Examples = examplesOf(r.Content[ct])
			break
		}
		op.Responses = append(op.Responses, vr)
	}
	return op
}

// auth describes the security requirements: alternatives joined by "or".
func (d *oaDoc) auth(sec *[]map[string][]string) string {
	reqs := d.Security
	if sec != nil {
		reqs = *sec
	}
	var alts []string
	for _, req := range reqs {
		for name := range req {
			s := d.Components.SecuritySchemes[name]
			switch {
			case s.Type == "http":
				alts = append(alts, "HTTP "+s.Scheme+" ("+s.Description+")")
			case s.Type == "apiKey":
				alts = append(alts, s.Name+" header ("+s.Description+")")
			}
		}
	}
	if len(alts) == 0 {
		return "none"
	}
	return strings.Join(alts, " or ")
}

func examplesOf(mt oaMediaType) []templates.APIDocsExample {
	var out []templates.APIDocsExample
	for _, k := range oaSortedKeys(mt.Examples) {
		e := mt.Examples[k]
		out = append(out, templates.APIDocsExample{Summary: e.Summary, JSON: indentJSON(e.Value)})
	}
	return out
}

func fieldsOf(s *oaSchema) []templates.APIDocsField {
	var out []templates.APIDocsField
	for _, name := range oaSortedKeys(s.Properties) {
		p := s.Properties[name]
		out = append(out, templates.APIDocsField{Name: name, Description: p.Description, Type: schemaType(p),
			Required: slices.Contains(s.Required, name)})
	}
	return out
}

// schemaType names a schema's type: a component's name (linked), "array
// of X", "string (date)", "integer or null", an enumeration, ...
func schemaType(s *oaSchema) templates.APIDocsType {
	switch {
	case s == nil:
		return templates.APIDocsType{Text: "any"}
	case s.Ref != "":
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		return templates.APIDocsType{Text: name, Ref: name}
	case s.Items != nil:
		t := schemaType(s.Items)
		t.Text = "array of " + t.Text
		return t
	case len(s.AllOf) > 0:
		parts := make([]string, 0, len(s.AllOf))
		ref := ""
		for _, p := range s.AllOf {
			t := schemaType(p)
			parts = append(parts, t.Text)
			if ref == "" {
				ref = t.Ref
			}
		}
		return templates.APIDocsType{Text: strings.Join(parts, " and "), Ref: ref}
	case len(s.AnyOf)+len(s.OneOf) > 0:
		parts := []string{}
		for _, p := range append(s.AnyOf, s.OneOf...) {
			parts = append(parts, schemaType(p).Text)
		}
		return templates.APIDocsType{Text: strings.Join(parts, " or ")}
	case s.Const != nil:
		return templates.APIDocsType{Text: "constant " + string(s.Const)}
	}
	var types []string
	if err := json.Unmarshal(s.Type, &types); err != nil {
		var one string
		_ = json.Unmarshal(s.Type, &one)
		types = []string{one}
	}
	text := strings.Join(types, " or ")
	if s.Format != "" {
		text += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		text += ": one of " + strings.Join(s.Enum, ", ")
	}
	if text == "" {
		text = "any"
	}
	return templates.APIDocsType{Text: text}
}

func indentJSON(raw json.RawMessage) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	var v any
	if json.Unmarshal(raw, &v) != nil || enc.Encode(v) != nil {
		return string(raw)
	}
	return strings.TrimSpace(b.String())
}

func oaSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
