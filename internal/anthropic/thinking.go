package anthropic

import (
	"strconv"
	"strings"
)

// MinThinkingBudget is the smallest thinking budget_tokens Anthropic accepts;
// the budget must also stay below max_tokens (anthropic-sdk-go
// ThinkingConfigEnabledParam: "Must be ≥1024 and less than max_tokens").
const MinThinkingBudget = 1024

// AdaptiveThinking reports whether model is asked to think with
// {"type":"adaptive"} and output_config.effort rather than {"type":"enabled",
// "budget_tokens"}. Claude 4.6 and later take adaptive thinking, and the SDKs
// warn that enabled is deprecated there (anthropic-sdk-go thinking_warn.go:
// claude-opus-4-6); the newest models refuse budget_tokens (README §3.1). Claude
// 3.7 to 4.5 know only the budget form. A name that is not recognisably older
// (a new family, an alias) is taken to be new, as Claude Code does for model
// names it does not know.
func AdaptiveThinking(model string) bool {
	major, minor, ok := claudeVersion(model)
	return !ok || major > 4 || major == 4 && minor >= 6
}

// claudeVersion reads the version of a Claude model name, with or without a
// provider prefix: claude-opus-4-5-20251101 is 4.5, claude-sonnet-4-20250514 4.0,
// claude-3-7-sonnet-latest 3.7. ok is false for a name without one.
func claudeVersion(model string) (major, minor int, ok bool) {
	i := strings.Index(model, "claude-")
	if i < 0 {
		return 0, 0, false
	}
	parts := strings.Split(model[i+len("claude-"):], "-")
	for j, p := range parts {
		if major, ok = versionPart(p); !ok {
			continue
		}
		if j+1 < len(parts) {
			minor, _ = versionPart(parts[j+1]) // a date or a family name is no minor version
		}
		return major, minor, true
	}
	return 0, 0, false
}

// versionPart reads one or two digits; a date (20250514) is not a version.
func versionPart(s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}
