package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

const (
	teamBKey = "team-b-key-0123456789abcdef"
	adminKey = "admin-key-0123456789abcdef"
)

// budgetsConfig: team-a has a daily token budget, team-b counts its usage per
// month without a cap, ops is an admin without a budget.
func budgetsConfig(store string) string {
	return strings.Replace(limitedConfig("budget: {tokens: 5000, period: day}", store, "fail_closed"), "    - "+plainKey, `    - name: team-b
      key: `+teamBKey+`
      budget: {period: month}
    - name: ops
      key: `+adminKey+`
      admin: true
    - `+plainKey, 1)
}

type usageRow struct {
	Key          string  `json:"key"`
	Period       string  `json:"period"`
	Start        string  `json:"start"`
	End          string  `json:"end"`
	Tokens       int64   `json:"tokens"`
	Cost         float64 `json:"cost"`
	BudgetTokens int64   `json:"budget_tokens"`
	BudgetCost   float64 `json:"budget_cost"`
}

// readUsage asks GET /v1/llmrouter/usage with key and query.
func readUsage(t *testing.T, base, key, query string, header ...string) (int, []usageRow, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/llmrouter/usage"+query, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var list struct {
		Object string     `json:"object"`
		Data   []usageRow `json:"data"`
	}
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, &list); err != nil || list.Object != "list" {
			t.Fatalf("usage answer %s: %v", b, err)
		}
	}
	return resp.StatusCode, list.Data, b
}

// A key reads its own budget usage; an admin key reads every key's or one's; a
// plain key, and a key asking for another's (existing or not), are refused in
// the client's envelope. The previous period stays readable after the turn.
func TestBudgetUsageIsReadableByItsKey(t *testing.T) {
	clk := newClock(limitStart)
	rt := newRouter(t, budgetsConfig("memory"), meteredUpstream(t).URL, withClock(clk))
	o := observe(t, rt)
	for _, key := range []string{teamAKey, teamBKey, teamBKey} {
		if resp, b := sendAs(t, o.URL, key, false, "gpt-4o", false); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		o.waitServed(t)
	}
	teamA := usageRow{Key: "team-a", Period: "day", Start: "2026-12-31T00:00:00Z", End: "2027-01-01T00:00:00Z", Tokens: 1020, BudgetTokens: 5000}
	teamB := usageRow{Key: "team-b", Period: "month", Start: "2026-12-01T00:00:00Z", End: "2027-01-01T00:00:00Z", Tokens: 2040}
	for _, c := range []struct {
		key, query string
		want       []usageRow
	}{
		{teamAKey, "", []usageRow{teamA}},
		{teamAKey, "?key=team-a", []usageRow{teamA}},
		{teamBKey, "", []usageRow{teamB}},
		{adminKey, "", []usageRow{teamA, teamB}},
		{adminKey, "?key=team-b", []usageRow{teamB}},
		{adminKey, "?key=ops", []usageRow{}}, // no budget: nothing counted
	} {
		status, got, b := readUsage(t, o.URL, c.key, c.query)
		o.waitServed(t)
		if status != 200 {
			t.Errorf("%s%s: %d %s", c.key[:6], c.query, status, b)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s%s (-want +got):\n%s", c.key[:6], c.query, diff)
		}
	}
	for _, c := range []struct {
		key, query string
		status     int
	}{
		{teamAKey, "?key=team-b", 403},
		{teamAKey, "?key=nobody", 403}, // the same answer: it does not say which keys exist
		{plainKey, "", 403},
		{adminKey, "?key=nobody", 404},
		{teamAKey, "?period=last", 400},
	} {
		status, _, b := readUsage(t, o.URL, c.key, c.query, "Anthropic-Version", "2023-06-01")
		o.waitServed(t)
		if status != c.status || gjson.GetBytes(b, "type").String() != "error" {
			t.Errorf("%s%s: %d %s, want %d in Anthropic's envelope", c.key[:6], c.query, status, b, c.status)
		}
	}
	if status, _, _ := readUsage(t, o.URL, "wrong-key-0123456789", ""); status != 401 {
		t.Errorf("a wrong key: %d", status)
	}
	o.waitServed(t)
	clk.Advance(time.Minute) // a new day and a new month
	if _, got, _ := readUsage(t, o.URL, teamAKey, ""); len(got) != 1 || got[0].Tokens != 0 || got[0].Start != "2027-01-01T00:00:00Z" {
		t.Errorf("the new day's usage: %+v", got)
	}
	o.waitServed(t)
	if _, got, _ := readUsage(t, o.URL, adminKey, "?period=previous"); fmt.Sprint(got) != fmt.Sprint([]usageRow{teamA, teamB}) {
		t.Errorf("the previous period: %+v", got)
	}
	o.waitServed(t)
}
