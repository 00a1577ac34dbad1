package picker

// shardChunk is how many shards share a chunk of the shard table: an update copies one chunk
// per changed shard and the list of chunks, so publishing a tablet's health change costs
// O(shards/shardChunk + shardChunk) pointer copies, not a copy of every shard.
const shardChunk = 64

// shardTable maps each shard to its tablets. The index (shard → slot) is built once per
// topology and shared, never modified, by every snapshot that Update derives; the slots live
// in fixed-size chunks that Update copies on write.
type shardTable struct {
	index  map[KeyspaceShard]int32
	chunks []*[shardChunk]*shardTablets
}

// buildShardTable lays out the shards, in any order.
func buildShardTable(shards map[KeyspaceShard]*shardTablets) shardTable {
	t := shardTable{index: make(map[KeyspaceShard]int32, len(shards))}
	var i int32
	for ks, sh := range shards {
		if int(i)%shardChunk == 0 {
			t.chunks = append(t.chunks, new([shardChunk]*shardTablets))
		}
		t.chunks[i/shardChunk][i%shardChunk] = sh
		t.index[ks] = i
		i++
	}
	return t
}

// get returns a shard's tablets, or nil.
func (t *shardTable) get(ks KeyspaceShard) *shardTablets {
	i, ok := t.index[ks]
	if !ok {
		return nil
	}
	return t.chunks[i/shardChunk][i%shardChunk]
}

// at returns the shard at slot i, or nil.
func (t *shardTable) at(i int32) *shardTablets {
	if i < 0 || int(i/shardChunk) >= len(t.chunks) {
		return nil
	}
	return t.chunks[i/shardChunk][i%shardChunk]
}

// len is the number of shards.
func (t *shardTable) len() int { return len(t.index) }

// each calls f for every shard.
func (t *shardTable) each(f func(KeyspaceShard, *shardTablets)) {
	for ks, i := range t.index {
		f(ks, t.chunks[i/shardChunk][i%shardChunk])
	}
}

// tableWriter derives a shard table from t, copying each chunk at most once.
type tableWriter struct {
	t      shardTable
	copied map[int32]bool // chunks already copied
}

func (t shardTable) writer() *tableWriter {
	w := &tableWriter{t: shardTable{index: t.index, chunks: append([]*[shardChunk]*shardTablets(nil), t.chunks...)}}
	w.copied = map[int32]bool{}
	return w
}

// set replaces the shard at slot i.
func (w *tableWriter) set(i int32, sh *shardTablets) {
	c := i / shardChunk
	if !w.copied[c] {
		cp := *w.t.chunks[c]
		w.t.chunks[c] = &cp
		w.copied[c] = true
	}
	w.t.chunks[c][i%shardChunk] = sh
}
