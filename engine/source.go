package engine

import (
	"fmt"
)

// source iterates the rows of one shard's reply.
type source struct {
	c     *Collector
	name  string
	batch *Batch
	i     int
	cols  []Column
	end   *End
	row   []byte   // the current row's payload
	vals  [][]byte // its values
	done  bool
}

// first waits for the reply's first batch: its columns, or its end.
func (s *source) first() error {
	b, ok := s.c.next()
	if !ok {
		s.done = true
		return fmt.Errorf("vtdirect: shard %s: no reply", s.name)
	}
	s.batch, s.i = b, 0
	s.cols = b.Columns
	if b.End != nil && len(b.Rows) == 0 {
		s.end, s.done = b.End, true
	}
	return nil
}

// next advances to the next row; false at the end of the reply (s.end then says how it
// ended).
func (s *source) next() (bool, error) {
	for !s.done {
		if s.batch != nil && s.i < len(s.batch.Rows) {
			s.row = s.batch.Rows[s.i]
			s.i++
			var err error
			s.vals, err = splitRow(s.row, s.vals)
			if err != nil {
				return false, fmt.Errorf("vtdirect: shard %s: %w", s.name, err)
			}
			return true, nil
		}
		if s.batch != nil && s.batch.End != nil {
			s.end, s.done = s.batch.End, true
			break
		}
		b, ok := s.c.next()
		if !ok {
			s.done = true
			if s.end == nil {
				s.end = &End{Err: fmt.Errorf("vtdirect: shard %s: the reply ended early", s.name)}
			}
			break
		}
		s.batch, s.i = b, 0
	}
	return false, nil
}

// drain reads the rest of the reply (to learn how it ended) without keeping it.
func (s *source) drain() {
	for !s.done {
		if ok, _ := s.next(); !ok {
			return
		}
	}
}
