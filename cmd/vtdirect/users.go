package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// staticUsers is the gateway's user list: from --mysql-auth-server-static-file (Vitess's
// static auth file format) and the config file's users.
type staticUsers = map[string]string

func loadUsers(file string) (staticUsers, error) {
	users := staticUsers{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--mysql-auth-server-static-file: %w", err)
		}
		fromFile, err := parseStaticAuth(data)
		if err != nil {
			return nil, fmt.Errorf("--mysql-auth-server-static-file %s: %w", file, err)
		}
		for k, v := range fromFile {
			users[k] = v
		}
	}
	return users, nil
}

// parseStaticAuth reads Vitess's static auth format: {"user": [{"Password": "pw"}]} or
// {"user": {"Password": "pw"}}. Hashed passwords (MysqlNativePassword) are not supported:
// the gateway must know the password to verify caching_sha2_password scrambles.
func parseStaticAuth(data []byte) (staticUsers, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not JSON of the form {\"user\": [{\"Password\": \"...\"}]}: %w", err)
	}
	type entry struct {
		Password            string
		MysqlNativePassword string
	}
	users := staticUsers{}
	for name, msg := range raw {
		var list []entry
		if err := json.Unmarshal(msg, &list); err != nil {
			var one entry
			if err := json.Unmarshal(msg, &one); err != nil {
				return nil, fmt.Errorf("user %q: %w", name, err)
			}
			list = []entry{one}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("user %q has no entry", name)
		}
		if list[0].Password == "" && list[0].MysqlNativePassword != "" {
			return nil, fmt.Errorf("user %q: MysqlNativePassword hashes are not supported; give the Password", name)
		}
		users[name] = list[0].Password
	}
	return users, nil
}
