package config

import (
	"fmt"
	"strings"
)

// expand replaces ${VAR} and ${VAR:-default} in one value, and $$ with $. VAR must
// start with a letter or `_`, so regex group references ($1, ${1}) and JSONPaths ($.x)
// are left as written. As in the shell, the default also applies when VAR is set but
// empty; it is taken literally up to the first `}`. An unset VAR without a default is
// an error naming it; errors never quote the value around the reference.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i += 2
		case strings.HasPrefix(s[i:], "${") && i+2 < len(s) && isNameStart(s[i+2]):
			v, n, err := reference(s[i:], lookup)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			i += n
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// reference expands the ${VAR} or ${VAR:-default} at the start of s and returns its
// value and length.
func reference(s string, lookup func(string) (string, bool)) (string, int, error) {
	end := 2
	for end < len(s) && isNameByte(s[end]) {
		end++
	}
	name := s[2:end]
	rest := s[end:]
	switch {
	case strings.HasPrefix(rest, "}"):
		v, ok := lookup(name)
		if !ok {
			return "", 0, fmt.Errorf("environment variable %s is not set (write ${%s:-} to allow it unset)", name, name)
		}
		return v, end + 1, nil
	case strings.HasPrefix(rest, ":-"):
		def, _, found := strings.Cut(rest[2:], "}")
		if !found {
			return "", 0, fmt.Errorf("unterminated ${%s:-...}: missing }", name)
		}
		if v, ok := lookup(name); ok && v != "" {
			return v, end + 2 + len(def) + 1, nil
		}
		return def, end + 2 + len(def) + 1, nil
	}
	return "", 0, fmt.Errorf("malformed reference to %s: want ${%s} or ${%s:-default} (write $$ for a literal $)", name, name, name)
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }

// references returns the names of the variables s refers to, as ${VAR} or
// ${VAR:-default}.
func references(s string) []string {
	var names []string
	for i := strings.Index(s, "${"); i >= 0; i = strings.Index(s, "${") {
		s = s[i+2:]
		end := 0
		for end < len(s) && isNameByte(s[end]) {
			end++
		}
		if end > 0 && isNameStart(s[0]) {
			names = append(names, s[:end])
		}
	}
	return names
}
