package session

import (
	"encoding/hex"
	"strings"
)

// Var is one system variable with its value as the server reports it (session tracking gives
// every value as a string: "OFF", "28800", "STRICT_TRANS_TABLES,...", "" for NULL).
type Var struct{ Name, Value string }

// Settings are the system variables a session changed from a backend connection's base state
// (the server's defaults plus the gateway's session tracking), in the order they are replayed.
// The zero value is "nothing changed". A Settings value is never modified in place once
// handed out: With and Without return new ones, so a backend connection can keep the Key of
// what it applied.
type Settings struct {
	vars []Var // replay order: see rank
	key  string
	sql  string
}

// rank orders the variables whose replay order matters: setting a character set resets the
// matching collation to the character set's default, so character sets come first, then
// collations; every other variable follows in the order the session last set it.
func rank(name string) int {
	switch name {
	case "character_set_client":
		return 0
	case "character_set_results":
		return 1
	case "character_set_connection":
		return 2
	case "collation_connection":
		return 3
	case "character_set_database":
		return 4
	case "collation_database":
		return 5
	}
	return 10
}

// Len is the number of variables.
func (s Settings) Len() int { return len(s.vars) }

// Vars returns the variables in replay order (do not modify).
func (s Settings) Vars() []Var { return s.vars }

// Get returns a variable's value.
func (s Settings) Get(name string) (string, bool) {
	for _, v := range s.vars {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// Key identifies the settings: equal keys, equal state. "" for none.
func (s Settings) Key() string { return s.key }

// SQL is the one statement that applies the settings to a connection in its base state
// ("" for none).
func (s Settings) SQL() string { return s.sql }

// With returns the settings with name set to value, moved to the end of its rank group (the
// last value wins, in the order the session set them).
func (s Settings) With(name, value string) Settings {
	if v, ok := s.Get(name); ok && v == value && s.isLastOfRank(name) {
		return s
	}
	out := make([]Var, 0, len(s.vars)+1)
	for _, v := range s.vars {
		if v.Name != name {
			out = append(out, v)
		}
	}
	r := rank(name)
	i := len(out)
	for i > 0 && rank(out[i-1].Name) > r {
		i--
	}
	out = append(out, Var{})
	copy(out[i+1:], out[i:])
	out[i] = Var{Name: name, Value: value}
	return build(out)
}

func (s Settings) isLastOfRank(name string) bool {
	r := rank(name)
	last := ""
	for _, v := range s.vars {
		if rank(v.Name) == r {
			last = v.Name
		}
	}
	return last == name
}

// Without returns the settings without name (the session set it back to its default).
func (s Settings) Without(name string) Settings {
	if _, ok := s.Get(name); !ok {
		return s
	}
	out := make([]Var, 0, len(s.vars))
	for _, v := range s.vars {
		if v.Name != name {
			out = append(out, v)
		}
	}
	return build(out)
}

func build(vars []Var) Settings {
	if len(vars) == 0 {
		return Settings{}
	}
	var key, q strings.Builder
	q.WriteString("SET SESSION ")
	for i, v := range vars {
		if i > 0 {
			key.WriteByte(0)
			q.WriteString(", ")
		}
		key.WriteString(v.Name)
		key.WriteByte('=')
		key.WriteString(v.Value)
		q.WriteString(v.Name)
		q.WriteString(" = ")
		q.WriteString(sqlValue(v.Name, v.Value))
	}
	return Settings{vars: vars, key: key.String(), sql: q.String()}
}

// nullable are the variables whose empty tracked value means NULL (session tracking reports
// NULL as an empty string).
func nullable(name string) bool {
	return name == "character_set_results"
}

// sqlValue writes a tracked value as an SQL literal MariaDB takes back for the variable:
// numbers bare (numeric variables refuse strings), NULL where the empty value means it, strings
// quoted; a value with a backslash, a quote or a control character as a hex literal, which
// means the same whatever the connection's sql_mode (NO_BACKSLASH_ESCAPES).
func sqlValue(name, value string) string {
	if value == "" && nullable(name) {
		return "NULL"
	}
	if isNumber(value) {
		return value
	}
	if needsHex(value) {
		return hexLiteral(value)
	}
	return "'" + value + "'"
}

// needsHex reports a string that is safest written as a hex literal: one with a backslash
// (whose meaning depends on NO_BACKSLASH_ESCAPES), a quote, or a control or non-ASCII byte.
func needsHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\'' || c < ' ' || c >= 0x7f {
			return true
		}
	}
	return false
}

func hexLiteral(s string) string { return "X'" + hex.EncodeToString([]byte(s)) + "'" }

// isNumber reports an optionally signed decimal number ("28800", "10.000000", "-1").
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
