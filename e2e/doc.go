// Package e2e drives real clients, installed from npm at pinned versions (e2e/clients), end
// to end: Claude Code and Codex CLI through the router to fake upstreams built from the
// recorded wire formats in testdata/ (and Codex directly against a fake Responses upstream,
// to pin what it sends). The package holds only tests; the helpers that run the clients are
// in e2e/clienttest.
package e2e
