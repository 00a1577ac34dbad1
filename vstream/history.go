package vstream

import "context"

// historyShape returns the shape of table at the stream's position from the schema history,
// or nil when the source keeps none.
func (s *shardStream) historyShape(ctx context.Context, table string) (*tableDef, error) {
	return nil, nil
}
