package gateway

import (
	"encoding/json"
	"net/http"
)

// models lists the configured exact model names (globs are not listed), in OpenAI's
// list format, or Anthropic's when the request carries anthropic-version.
func (g *Gateway) models(w http.ResponseWriter, r *http.Request) {
	names := g.routes.Names()
	w.Header().Set("Content-Type", "application/json")
	var body any
	if r.Header.Get("Anthropic-Version") != "" {
		body = anthropicModels(names)
	} else {
		body = g.openAIModels(names)
	}
	_ = json.NewEncoder(w).Encode(body)
}

type openAIModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (g *Gateway) openAIModels(names []string) any {
	data := make([]openAIModel, 0, len(names))
	for _, n := range names {
		i, _ := g.routes.Lookup(n)
		data = append(data, openAIModel{ID: n, Object: "model", OwnedBy: string(g.targets[i].model.Provider)})
	}
	return struct {
		Object string        `json:"object"`
		Data   []openAIModel `json:"data"`
	}{"list", data}
}

type anthropicModel struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

func anthropicModels(names []string) any {
	data := make([]anthropicModel, 0, len(names))
	for _, n := range names {
		data = append(data, anthropicModel{Type: "model", ID: n, DisplayName: n, CreatedAt: "1970-01-01T00:00:00Z"})
	}
	var first, last *string
	if len(names) > 0 {
		first, last = &names[0], &names[len(names)-1]
	}
	return struct {
		Data    []anthropicModel `json:"data"`
		HasMore bool             `json:"has_more"`
		FirstID *string          `json:"first_id"`
		LastID  *string          `json:"last_id"`
	}{data, false, first, last}
}
