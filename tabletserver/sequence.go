package tabletserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// Sequences: the tablet server of a sequence table's primary serves its values, as vttablet
// does (a table with Vitess's layout: id = 0, next_id, cache). It keeps a block of values in
// memory and reserves the next block in MySQL (SELECT ... FOR UPDATE, then UPDATE next_id =
// next_id + cache, in one transaction) when the block runs out, so values are unique across
// gateways (each reserves its own blocks) and across restarts (a block handed out is never
// reserved again; what was left of it is skipped).
//
// https://vitess.io/docs/reference/features/vitess-sequences/

// sequence is one sequence table's cache.
type sequence struct {
	mu sync.Mutex // guards the fields; held while a block is reserved
	// next is the next value to hand out, last the end of the reserved block (exclusive);
	// next == 0: nothing reserved yet.
	next, last int64
	// term is the primary term the block was reserved in: a new term (another primary, or
	// this one promoted again) starts afresh, as vttablet resets its cache on promotion.
	term string
}

// sequences maps a table name to its cache.
type sequences struct {
	mu sync.Mutex // guards m
	m  map[string]*sequence
}

func (s *sequences) get(table string) *sequence {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*sequence{}
	}
	q := s.m[table]
	if q == nil {
		q = &sequence{}
		s.m[table] = q
	}
	return q
}

// NextSequence hands out n consecutive values of sequence table table (on this tablet, the
// primary of the table's shard) and returns the first. term is the tablet's primary term
// (its record's primary_term_start_time): values reserved in an earlier term are dropped.
// caps are the capabilities of the backend connection to use.
func (t *TabletServer) NextSequence(ctx context.Context, table string, n int64, term string, caps uint32) (int64, error) {
	if n < 1 {
		return 0, mysql.NewError(mysql.ER_WRONG_ARGUMENTS, fmt.Sprintf("vtdirect: invalid increment for sequence %s: %d", table, n))
	}
	q := t.seqs.get(table)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.term != term {
		q.next, q.last, q.term = 0, 0, term
	}
	if q.next == 0 || q.next+n > q.last {
		if err := t.reserve(ctx, q, table, n, caps); err != nil {
			return 0, err
		}
	}
	first := q.next
	q.next += n
	return first, nil
}

// reserve reserves the next block of a sequence in its table (q.mu held).
func (t *TabletServer) reserve(ctx context.Context, q *sequence, table string, n int64, caps uint32) error {
	conn, err := t.Get(ctx, Want{Caps: caps})
	if err != nil {
		return err
	}
	quoted := "`" + strings.ReplaceAll(table, "`", "``") + "`"
	fail := func(err error) error {
		if _, rerr := conn.Silent(ctx, "ROLLBACK"); rerr != nil {
			conn.Close()
		} else {
			conn.Release(0)
		}
		return fmt.Errorf("vtdirect: sequence %s on %s: %w", table, t.alias, err)
	}
	if _, err := conn.Silent(ctx, "BEGIN"); err != nil {
		return fail(err)
	}
	rows, err := conn.Silent(ctx, "SELECT next_id, cache FROM "+quoted+" WHERE id = 0 FOR UPDATE")
	if err != nil {
		return fail(err)
	}
	if len(rows) != 1 || len(rows[0]) != 2 {
		return fail(fmt.Errorf("want one row with id = 0 (Vitess's sequence layout: id, next_id, cache), got %d; insert it: INSERT INTO %s (id, next_id, cache) VALUES (0, 1, 1000)", len(rows), quoted))
	}
	nextID, err1 := strconv.ParseInt(rows[0][0], 10, 64)
	cache, err2 := strconv.ParseInt(rows[0][1], 10, 64)
	if err1 != nil || err2 != nil {
		return fail(fmt.Errorf("next_id %q or cache %q is not a number", rows[0][0], rows[0][1]))
	}
	if cache < 1 {
		return fail(fmt.Errorf("cache is %d; it must be at least 1", cache))
	}
	if q.last != nextID {
		// First use, or someone moved next_id: start from the table's value (never below what
		// this cache reserved).
		if nextID < q.last {
			nextID = q.last
		}
		q.next, q.last = nextID, nextID
	}
	newLast := nextID + cache
	for newLast < q.next+n {
		newLast += cache
	}
	if _, err := conn.Silent(ctx, "UPDATE "+quoted+" SET next_id = "+strconv.FormatInt(newLast, 10)+" WHERE id = 0"); err != nil {
		return fail(err)
	}
	if _, err := conn.Silent(ctx, "COMMIT"); err != nil {
		conn.Close() // the block may or may not be reserved: use none of it
		return fmt.Errorf("vtdirect: sequence %s on %s: commit: %w", table, t.alias, err)
	}
	conn.Release(0)
	q.last = newLast
	return nil
}
