package failover

// Hooks, as orchestrator's PreFailoverProcesses and PostFailoverProcesses: shell commands run
// before and after a recovery, with what it is about in the environment. A failing pre-hook
// stops the recovery before it changed anything.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// hookEnv is the environment a hook sees.
func hookEnv(rec *Recovery, phase string) []string {
	env := []string{
		"VTDIRECT_FAILOVER_PHASE=" + phase, // pre or post
		"VTDIRECT_FAILOVER_RECOVERY_ID=" + rec.ID,
		"VTDIRECT_FAILOVER_KIND=" + rec.Kind,
		"VTDIRECT_FAILOVER_TRIGGER=" + rec.Trigger,
		"VTDIRECT_FAILOVER_KEYSPACE=" + rec.Keyspace,
		"VTDIRECT_FAILOVER_SHARD=" + rec.Shard,
		"VTDIRECT_FAILOVER_OLD_PRIMARY=" + rec.OldPrimary,
		"VTDIRECT_FAILOVER_NEW_PRIMARY=" + rec.NewPrimary,
	}
	if phase == "post" {
		env = append(env, "VTDIRECT_FAILOVER_STATUS="+rec.Status, "VTDIRECT_FAILOVER_ERROR="+rec.Error)
	}
	return append(os.Environ(), env...)
}

// runHooks runs the commands one after the other; it stops at the first failure.
func runHooks(ctx context.Context, cmds []string, timeout time.Duration, env []string) (string, error) {
	var done []string
	for _, c := range cmds {
		hctx, cancel := context.WithTimeout(ctx, timeout)
		cmd := exec.CommandContext(hctx, "sh", "-c", c)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		if err != nil {
			return strings.Join(done, "; "), fmt.Errorf("hook %q failed: %w; output: %s", c, err, tail(out.String(), 500))
		}
		done = append(done, fmt.Sprintf("%q ok", c))
	}
	return strings.Join(done, "; "), nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
