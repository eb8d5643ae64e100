package api

import "encoding/json"

// The parts of an OpenAPI 3.1 document the reference page reads.

type oaDoc struct {
	Info struct {
		Title, Version, Description string
	} `json:"info"`
	Tags       []struct{ Name, Description string } `json:"tags"`
	Security   []map[string][]string                `json:"security"`
	Paths      map[string]map[string]oaOperation    `json:"paths"`
	Webhooks   map[string]map[string]oaOperation    `json:"webhooks"`
	Components struct {
		Schemas         map[string]*oaSchema   `json:"schemas"`
		Responses       map[string]oaResponse  `json:"responses"`
		Parameters      map[string]oaParameter `json:"parameters"`
		SecuritySchemes map[string]struct {
			Type, Scheme, Name, Description string
		} `json:"securitySchemes"`
	} `json:"components"`
}

type oaOperation struct {
	OperationID string                 `json:"operationId"`
	Tags        []string               `json:"tags"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Security    *[]map[string][]string `json:"security"` // nil: the document's
	Parameters  []oaParameter          `json:"parameters"`
	RequestBody *struct {
		Required bool                   `json:"required"`
		Content  map[string]oaMediaType `json:"content"`
	} `json:"requestBody"`
	Responses map[string]oaResponse `json:"responses"`
}

type oaParameter struct {
	Ref         string    `json:"$ref"`
	Name        string    `json:"name"`
	In          string    `json:"in"`
	Description string    `json:"description"`
	Required    bool      `json:"required"`
	Schema      *oaSchema `json:"schema"`
}

type oaResponse struct {
	Ref         string                 `json:"$ref"`
	Description string                 `json:"description"`
	Headers     map[string]any         `json:"headers"`
	Content     map[string]oaMediaType `json:"content"`
}

type oaMediaType struct {
	Schema   *oaSchema `json:"schema"`
	Examples map[string]struct {
		Summary string          `json:"summary"`
		Value   json.RawMessage `json:"value"`
	} `json:"examples"`
}

// oaSchema is a JSON Schema (2020-12) as far as the page shows it; raw
// keeps the whole schema for the ones shown as JSON.
type oaSchema struct {
	Ref         string               `json:"$ref"`
	Type        json.RawMessage      `json:"type"` // a string or an array of strings
	Format      string               `json:"format"`
	Description string               `json:"description"`
	Enum        []string             `json:"enum"`
	Const       json.RawMessage      `json:"const"`
	Items       *oaSchema            `json:"items"`
	Properties  map[string]*oaSchema `json:"properties"`
	Required    []string             `json:"required"`
	AllOf       []*oaSchema          `json:"allOf"`
	AnyOf       []*oaSchema          `json:"anyOf"`
	OneOf       []*oaSchema          `json:"oneOf"`
	raw         json.RawMessage
}

// UnmarshalJSON keeps the raw schema beside the decoded fields.
func (s *oaSchema) UnmarshalJSON(b []byte) error {
	type plain oaSchema
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	s.raw = append(json.RawMessage(nil), b...)
	return nil
}
