package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/llmrouter/llmrouter/internal/limit"
)

// GET /v1/llmrouter/usage: what keys have used of their budgets in the current
// period (or, with ?period=previous, the one before), read from the limit store,
// so every replica answers alike with Redis. An in-process store is readable only
// from the process that counts, hence an endpoint rather than a command.
//
// Who sees what: a named key its own usage; a key with admin: true every key's,
// or one key's with ?key=NAME. A plain key has no usage and is refused, as is a
// key asking for another's (403, without saying whether that key exists).
// Usage is counted for keys with a budget (a period alone counts without a cap).

// budgetUsage is one key's usage in one period, as the endpoint answers it.
type budgetUsage struct {
	Key          string    `json:"key"`
	Period       string    `json:"period"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	Tokens       int64     `json:"tokens"`
	Cost         float64   `json:"cost"`
	BudgetTokens int64     `json:"budget_tokens"`
	BudgetCost   float64   `json:"budget_cost"`
}

// usageList is the endpoint's answer.
type usageList struct {
	Object string        `json:"object"`
	Data   []budgetUsage `json:"data"`
}

// budgets answers GET /v1/llmrouter/usage.
func (g *Gateway) budgets(w http.ResponseWriter, r *http.Request) {
	p := g.clientOf(r.Header, r.URL.Path)
	keys, aerr := g.usageKeys(w, r)
	if aerr == nil && r.URL.Query().Get("period") != "" && r.URL.Query().Get("period") != "previous" {
		aerr = &apiError{Status: http.StatusBadRequest, Param: "period", Message: "period: want previous, or none for the current period"}
	}
	if aerr != nil {
		recordOf(w).errMsg = aerr.Error()
		writeError(w, p, aerr)
		return
	}
	list := usageList{Object: "list", Data: []budgetUsage{}}
	for _, k := range keys {
		u, err := g.periodUsage(r, k.scopes[0])
		if err != nil {
			aerr := &apiError{Status: http.StatusServiceUnavailable, Message: "the limit store is unavailable; retry shortly", Err: err}
			recordOf(w).errMsg = aerr.Error()
			writeError(w, p, aerr)
			return
		}
		b := k.cfg.Budget
		list.Data = append(list.Data, budgetUsage{Key: k.cfg.Name, Period: b.Period, Start: u.Start, End: u.End,
			Tokens: u.Tokens, Cost: u.Cost, BudgetTokens: b.Tokens, BudgetCost: b.Cost})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

// usageKeys returns the keys whose usage the request may read and asked for:
// those with a budget period among its own (a named key) or every key (an
// admin), narrowed by ?key=NAME.
func (g *Gateway) usageKeys(w http.ResponseWriter, r *http.Request) ([]*routerKey, *apiError) {
	k := recordOf(w).key
	want := r.URL.Query().Get("key")
	switch {
	case k != nil && k.cfg.Name == "":
		return nil, errorf(http.StatusForbidden, "a plain key has no usage: usage is counted for named keys with a budget")
	case k != nil && !k.cfg.Admin && want != "" && want != k.cfg.Name:
		return nil, errorf(http.StatusForbidden, "a key may read only its own usage (admin: true reads every key's)")
	case k != nil && !k.cfg.Admin:
		want = k.cfg.Name
	}
	var out []*routerKey
	found := false
	for i := range g.keys {
		c := &g.keys[i]
		if c.cfg.Name == "" || want != "" && c.cfg.Name != want {
			continue
		}
		found = true
		if c.scopes != nil && c.cfg.Budget.Period != "" {
			out = append(out, c)
		}
	}
	if want != "" && !found {
		return nil, &apiError{Status: http.StatusNotFound, Param: "key", Message: fmt.Sprintf("no key is named %q", want)}
	}
	return out, nil
}

// periodUsage reads a scope's usage in the current period, or the previous one.
func (g *Gateway) periodUsage(r *http.Request, s *limit.Scope) (limit.PeriodUsage, error) {
	u, err := g.limits.eng.Usage(r.Context(), s, g.limits.now())
	if err != nil || r.URL.Query().Get("period") != "previous" {
		return u, err
	}
	return g.limits.eng.Usage(r.Context(), s, u.Start.Add(-time.Nanosecond))
}
