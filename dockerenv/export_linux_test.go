package dockerenv

// ChownInContainer exposes the fix-up path a non-root sb takes, which a
// test running as root cannot reach through Run.
var ChownInContainer = (*Engine).chownInContainer
