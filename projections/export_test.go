package projections

// ActorOf is actorOf, for its test.
var ActorOf = actorOf
