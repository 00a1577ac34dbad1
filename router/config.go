package router

import (
	"errors"
	"log/slog"
)

// Config configures the router.
type Config struct {
	// Cell is the gateway's own cell: replica and rdonly reads prefer it.
	Cell string
	// Logger receives the router's log lines.
	Logger *slog.Logger
}

func (c *Config) validate() error {
	if c.Logger == nil {
		return errors.New("router: Config.Logger is required")
	}
	return nil
}
