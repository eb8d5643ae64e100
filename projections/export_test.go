package projections

// StorableJSON and StorableText are storableJSON and storableText, for
// their tests.
var (
	StorableJSON = storableJSON
	StorableText = storableText
)
