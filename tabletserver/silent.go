package tabletserver

import (
	"errors"
	"fmt"
)

// rowRecorder collects the bytes of a small text result (a statement the gateway runs itself to
// read a few values) and decodes its rows.
type rowRecorder struct {
	deprecateEOF bool
	b            []byte
}

func (r *rowRecorder) Write(p []byte) (int, error) {
	if len(r.b)+len(p) > 1<<20 {
		return 0, errors.New("vtdirect: internal statement returned more than 1 MiB")
	}
	r.b = append(r.b, p...)
	return len(p), nil
}

// rows decodes the recorded reply: nil for an OK, else every row's values as strings (NULL as "").
func (r *rowRecorder) rows() ([][]string, error) {
	vals, err := r.values()
	if err != nil || len(vals) == 0 {
		return nil, err
	}
	out := make([][]string, len(vals))
	for i, row := range vals {
		out[i] = make([]string, len(row))
		for j, v := range row {
			out[i][j] = string(v)
		}
	}
	return out, nil
}

// values decodes the recorded reply: nil for an OK, else every row's values, NULL as nil
// (an empty value is an empty, non-nil slice).
func (r *rowRecorder) values() ([][][]byte, error) {
	var pkts [][]byte
	for b := r.b; len(b) > 0; {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: truncated packet", errProtocol)
		}
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if len(b) < 4+n {
			return nil, fmt.Errorf("%w: truncated packet", errProtocol)
		}
		pkts = append(pkts, b[4:4+n])
		b = b[4+n:]
	}
	if len(pkts) == 0 || len(pkts[0]) == 0 || pkts[0][0] == hdrOK {
		return nil, nil
	}
	cols, _, ok := readLenEnc(pkts[0])
	if !ok || int(cols)+1 > len(pkts) {
		return nil, fmt.Errorf("%w: bad result", errProtocol)
	}
	i := 1 + int(cols)
	if !r.deprecateEOF {
		i++ // the EOF after the definitions
	}
	var out [][][]byte
	for ; i < len(pkts); i++ {
		p := pkts[i]
		if len(p) > 0 && p[0] == hdrEOF && len(p) < maxPayload {
			break
		}
		row := make([][]byte, 0, cols)
		for len(p) > 0 {
			if p[0] == 0xFB {
				row = append(row, nil)
				p = p[1:]
				continue
			}
			s, k, ok := readLenEncString(p)
			if !ok {
				return nil, fmt.Errorf("%w: bad row", errProtocol)
			}
			row = append(row, append([]byte{}, s...))
			p = p[k:]
		}
		out = append(out, row)
	}
	return out, nil
}
