package projections

// StorableJSON and StorableText are storableJSON and storableText, for
// their tests.
var (
	StorableJSON = storableJSON
	StorableText = storableText
)

// SetMaxCandidates sets how many differing plans a replay rechecks before
// it falls back to the full rebuild, until the test ends.
func SetMaxCandidates(t interface{ Cleanup(func()) }, n int) {
	old := maxCandidates
	maxCandidates = n
	t.Cleanup(func() { maxCandidates = old })
}

// AppendJSONBText is appendJSONBText, for its test.
var AppendJSONBText = appendJSONBText
