package projections

// ActorOf is actorOf, for its test.
var ActorOf = actorOf

// StorableJSON and StorableText are storableJSON and storableText, for
// their tests.
var (
	StorableJSON = storableJSON
	StorableText = storableText
)
