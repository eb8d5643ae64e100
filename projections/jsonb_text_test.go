package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"goodplan/eventstore/pgtest"
	"goodplan/projections"
)

// TestJSONBTextIsPostgresOutput checks replay's canonical jsonb text
// against PostgreSQL's own: random documents (as encoding/json writes them,
// and respaced), each put through jsonb by PostgreSQL and by
// AppendJSONBText. Where AppendJSONBText declines (an exponent, a
// duplicate key, malformed JSON) the row is compared in SQL instead; it
// must never produce a different text.
func TestJSONBTextIsPostgresOutput(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(13, 7))
	fixed := []string{
		`{"b":1,"aa":[1,2.50,{"c":null}],"a":"\u003c\u2028é\t\u0001\u007f"}`,
		`{"y":-0,"z":-0.0,"w":-0.10,"v":0.5,"u":-12}`,
		`[]`, `{}`, `null`, `"x"`, `-0`, `12.000`, `[{}, [], [[]]]`,
		`{"s":"\ud83d\ude00 \/ \"q\" \\ \b\f\n\r\t \u001f"}`,
		` { "k" : [ 1 , true , false , null ] } `,
		`{"\u0061":1,"\n":2,"\"":3}`,
		`{"x":1e2}`, `{"a":1,"a":2}`, `"\u0000"`, `"\udc00"`, `{"a":}`, `[1,]`, `01`,
	}
	var docs []string
	docs = append(docs, fixed...)
	for range 400 {
		b, err := json.Marshal(randomJSON(rng, 0))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
		if rng.IntN(4) == 0 {
			docs = append(docs, respace(rng, string(b)))
		}
	}
	declined := 0
	for _, doc := range docs {
		got, ok := projections.AppendJSONBText(nil, []byte(doc))
		var want string
		err := pool.QueryRow(ctx, `SELECT $1::text::jsonb::text`, doc).Scan(&want)
		switch {
		case !ok:
			declined++
		case err != nil:
			t.Errorf("%s: PostgreSQL refuses it (%v), AppendJSONBText gives %s", doc, err, got)
		case string(got) != want:
			t.Errorf("%s:\n got  %s\n want %s", doc, got, want)
		}
	}
	// The declined ones are the fixed cases from {"x":1e2} on: random
	// documents are always put in form.
	if declined != 7 {
		t.Errorf("declined %d documents, want 7", declined)
	}
}

func randomJSON(rng *rand.Rand, depth int) any {
	n := rng.IntN(10)
	if depth > 3 {
		n = rng.IntN(5) + 5
	}
	switch n {
	case 0, 1:
		m := map[string]any{}
		for range rng.IntN(7) {
			m[randomString(rng, 6)] = randomJSON(rng, depth+1)
		}
		return m
	case 2, 3:
		a := make([]any, rng.IntN(5))
		for i := range a {
			a[i] = randomJSON(rng, depth+1)
		}
		return a
	case 4:
		return nil
	case 5:
		return rng.IntN(2) == 0
	case 6:
		return json.Number(fmt.Sprintf("%d", rng.Int64N(2_000_000)-1_000_000))
	case 7:
		return json.Number(fmt.Sprintf("%d.%0*d", rng.IntN(1000)-500, rng.IntN(4)+1, rng.IntN(100)))
	default:
		return randomString(rng, 12)
	}
}

func randomString(rng *rand.Rand, max int) string {
	alphabet := []string{"a", "b", "Z", "0", " ", `"`, `\`, "/", "<", ">", "&", "\n", "\t", "\x01", "\x1f", "\x7f",
		"é", "€", "\u2028", "😀", "ü", "key", "_"}
	var b strings.Builder
	for range rng.IntN(max + 1) {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// respace puts random whitespace between the tokens of a compact document.
func respace(rng *rand.Rand, doc string) string {
	var b strings.Builder
	inString, escaped := false, false
	for _, r := range doc {
		b.WriteRune(r)
		switch {
		case inString && escaped:
			escaped = false
		case inString && r == '\\':
			escaped = true
		case r == '"':
			inString = !inString
		case !inString && strings.ContainsRune("{}[],:", r) && rng.IntN(2) == 0:
			b.WriteString([]string{" ", "\n", "\t ", "\r\n"}[rng.IntN(4)])
		}
	}
	return b.String()
}
