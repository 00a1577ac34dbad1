package engine

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// WriteResult is the sum of the shards' OK packets.
type WriteResult struct {
	Affected uint64
	// InsertID is the first non-zero insert id, in shard order.
	InsertID uint64
	Warnings uint16
	// Info is the shards' info strings added up ("Rows matched: 3  Changed: 2  Warnings: 0").
	Info    string
	InTrans bool
	// Err is the first failure; Failed names the shards that failed, OK those that did not.
	Err        error
	Failed, OK []string
	// Ends are each shard's end, in order (nil for a shard whose reply never ended).
	Ends []*End
}

// Writes waits for the shards' replies to a write (or any statement without rows) and adds
// them up.
func Writes(srcs []*Collector, names []string) WriteResult {
	var res WriteResult
	var infos []string
	res.Ends = make([]*End, len(srcs))
	for i, c := range srcs {
		var end *End
		for b, ok := c.next(); ok; b, ok = c.next() {
			if b.End != nil {
				end = b.End
			}
			if len(b.Columns) > 0 && end == nil {
				c.Abandon() // rows where none were expected: not kept
			}
		}
		if end == nil {
			end = &End{Err: errShortReply(names[i])}
		}
		res.Ends[i] = end
		if end.Err != nil {
			res.Failed = append(res.Failed, names[i])
			if res.Err == nil {
				res.Err = shardError(names[i], end.Err)
			}
			continue
		}
		res.OK = append(res.OK, names[i])
		res.Affected += end.Affected
		if res.InsertID == 0 {
			res.InsertID = end.InsertID
		}
		res.Warnings += end.Warnings
		res.InTrans = res.InTrans || end.Status&mysql.SERVER_STATUS_IN_TRANS != 0
		if end.Info != "" {
			infos = append(infos, end.Info)
		}
	}
	res.Info = mergeInfo(infos)
	return res
}

type shortReply string

func (s shortReply) Error() string { return "vtdirect: shard " + string(s) + ": the reply ended early" }

func errShortReply(name string) error { return shortReply(name) }

var infoField = regexp.MustCompile(`([A-Za-z][A-Za-z ]*?): (\d+)`)

// mergeInfo adds up the numbers of info strings of the same form.
func mergeInfo(infos []string) string {
	switch len(infos) {
	case 0:
		return ""
	case 1:
		return infos[0]
	}
	var labels []string
	sums := map[string]uint64{}
	for i, s := range infos {
		for _, m := range infoField.FindAllStringSubmatch(s, -1) {
			n, _ := strconv.ParseUint(m[2], 10, 64)
			if _, seen := sums[m[1]]; !seen && i == 0 {
				labels = append(labels, m[1])
			}
			sums[m[1]] += n
		}
	}
	if len(labels) == 0 {
		return infos[0]
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l + ": " + strconv.FormatUint(sums[l], 10)
	}
	return strings.Join(parts, "  ")
}
