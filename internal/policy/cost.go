package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/theory/jsonpath/spec"
)

// A JSONPath's top-level segments cost at most one step per node of the body each
// (eval.go), `..` and wildcards included. A filter (`[?…]`) is different: the
// library evaluates it once for every candidate node, and what it evaluates there
// can itself grow with the body. Under `..` every node is a candidate, so a filter
// whose own cost grows with the body makes the rule quadratic or worse. These are
// refused when the configuration is loaded:
//
//   - a descendant query inside a filter (`[?@..x]`, `count(@..*)`): a walk of
//     the candidate's whole subtree, for every candidate;
//   - a query on the root inside a filter (`[?$.a == @.b]`, `count($.*)`): up
//     to the whole body again for every candidate, also through a comparison of
//     deep values;
//   - a segment of several selectors inside a filter (`@[*,*]`): the library
//     keeps duplicates, so k such segments yield 2^k nodes;
//   - match() or search() with a pattern that is not a string literal: the
//     pattern would be compiled from request data once per candidate.
//
// What remains costs, per candidate, the nodes a fixed number of levels below it,
// so a rule stays linear in the body: each node is near only so many candidates.

// errFilterCost is wrapped by every refusal of checkCost.
var errFilterCost = errors.New("filter whose cost grows faster than the request")

// checkCost refuses paths with a filter whose evaluation cost grows with the body.
func checkCost(segs []*spec.Segment) error {
	for _, seg := range segs {
		for _, sel := range seg.Selectors() {
			if f, ok := sel.(*spec.FilterSelector); ok {
				if err := checkFilter(f.String()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkFilter inspects the library's canonical text of a filter (RFC 9535 syntax,
// strings double-quoted with backslash escapes): the filter's expression tree is
// not exported, its text is.
func checkFilter(expr string) error {
	var open []byte // the brackets and parentheses enclosing i
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '"':
			i = quotedEnd(expr, i) - 1
		case c == '.' && i+1 < len(expr) && expr[i+1] == '.':
			return fmt.Errorf("%w: a descendant query (..) inside a filter walks a subtree for every candidate node", errFilterCost)
		case c == '$':
			return fmt.Errorf("%w: a query on the root ($) inside a filter is evaluated again for every candidate node", errFilterCost)
		case c == '[' || c == '(':
			open = append(open, c)
		case c == ']' || c == ')':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case c == ',' && len(open) > 0 && open[len(open)-1] == '[':
			return fmt.Errorf("%w: a segment with several selectors inside a filter selects duplicates that multiply", errFilterCost)
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdentByte(expr[j]) {
				j++
			}
			if name := expr[i:j]; (name == "match" || name == "search") && strings.HasPrefix(expr[j:], "(") {
				if !literalPattern(expr[j:]) {
					return fmt.Errorf("%w: %s() needs a string literal as its pattern, not one taken from the request", errFilterCost, name)
				}
			}
			i = j - 1
		}
	}
	return nil
}

// literalPattern reports whether the call arguments at the start of s, "(a, b)",
// have a double-quoted string as b.
func literalPattern(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			i = quotedEnd(s, i) - 1
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth != 1 {
				continue
			}
			rest := strings.TrimLeft(s[i+1:], " ")
			if !strings.HasPrefix(rest, `"`) {
				return false
			}
			end := quotedEnd(rest, 0)
			return strings.HasPrefix(strings.TrimLeft(rest[end:], " "), ")")
		}
	}
	return false
}

// quotedEnd returns the index just past the double-quoted string at s[i].
func quotedEnd(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

func isIdentStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

func isIdentByte(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }
