package vstream

import "testing"

// TestQueueChargedByBlocks: a queue is charged the read blocks its events keep alive, not
// their lengths: small events of distinct blocks fill it after limit/binlogChunk of them,
// many small events of one block cost one block, and an event with memory of its own costs
// its length.
func TestQueueChargedByBlocks(t *testing.T) {
	newSub := func() *subscription {
		// joining: an overflow gives up the join instead of starting a dump (no server here)
		return &subscription{set: newHubSet(Config{}), addr: "x:1", state: subJoining, notify: make(chan struct{}, 1)}
	}
	const limit = 4 * binlogChunk
	ev := make([]byte, 60)

	s := newSub()
	for b := uint64(1); b <= 4; b++ {
		if !s.push(ev, limit, pushInfo{block: b}) {
			t.Fatalf("event of block %d refused: the queue holds %d blocks, its limit is 4", b, b-1)
		}
	}
	if s.push(ev, limit, pushInfo{block: 5}) {
		t.Fatalf("a 5th block was queued (charged %d bytes for 4 blocks of 60-byte events)", s.bytes)
	}
	if s.state != subOwn {
		t.Fatalf("state %d after the overflow of a joining subscriber, want subOwn", s.state)
	}

	s = newSub()
	for range 1000 {
		if !s.push(ev, limit, pushInfo{block: 7}) {
			t.Fatal("small events of one block overflowed the queue")
		}
	}
	if s.bytes != binlogChunk {
		t.Fatalf("1000 events of one block charged %d, want one block (%d)", s.bytes, binlogChunk)
	}
	big := make([]byte, 3*binlogChunk)
	if !s.push(big, limit, pushInfo{}) || s.bytes != binlogChunk+len(big) {
		t.Fatalf("an event of its own charged %d in all, want %d", s.bytes, binlogChunk+len(big))
	}
}

// TestBinlogConnBlocks: the connection reports the block each packet was carved from: small
// packets share one until it is used up, a large one that does not fit has memory of its
// own (block 0).
func TestBinlogConnBlocks(t *testing.T) {
	var in []byte
	ok := func(n int) []byte { return append([]byte{0}, make([]byte, n-1)...) } // an OK byte, then the event
	in = append(in, packet(ok(100))...)
	in = append(in, packet(ok(100))...)
	in = append(in, packet(ok(binlogChunk))...) // more than the block has left
	for range binlogChunk / 500 {               // two blocks of them
		in = append(in, packet(ok(1000))...)
	}
	c := testConn(t, in)
	var blocks []uint64
	for {
		if _, err := c.readEvent(); err != nil {
			break
		}
		blocks = append(blocks, c.lastBlock())
	}
	if len(blocks) < 4 || blocks[0] == 0 || blocks[1] != blocks[0] || blocks[2] != 0 {
		t.Fatalf("blocks %v: want the first two alike, the large one 0", blocks[:min(4, len(blocks))])
	}
	if last := blocks[len(blocks)-1]; last == blocks[0] || last == 0 {
		t.Fatalf("the last of %d 1000-byte packets is in block %d, want a new block", len(blocks)-3, last)
	}
}
