package planner

// Merge is how the rows of a SELECT that ran on several shards become its result: merged by
// sort keys (each shard's rows arrive sorted, so the merge streams), grouped and aggregated,
// filtered by HAVING, sorted again after aggregation, limited.
type Merge struct {
	// Visible is how many columns the client gets: the first ones of the shards' rows; the
	// others are the gateway's (WEIGHT_STRING()s, hidden sort keys, AVG's counts).
	Visible int
	// Star: the select list has a * (its width is known only from the result), so hidden
	// columns are counted from the end of the row (Col < 0: -1 is the last column).
	Star bool
	// Hidden is how many columns the gateway added after the visible ones.
	Hidden int
	// Order are the keys each shard's rows are sorted by (its ORDER BY), which the merge
	// keeps. For a grouped plan they are the group keys first.
	Order []SortKey
	// Grouped: the rows are grouped (GROUP BY, DISTINCT, or aggregates without GROUP BY);
	// GroupKeys is how many of Order's keys make the group (all but the COUNT(DISTINCT)
	// column, when there is one); Aggs say what each column of a group's row is.
	Grouped   bool
	GroupKeys int
	Aggs      []Agg
	// Having filters the groups (the conditions the shards could not apply).
	Having Cond
	// PostOrder sorts the groups after aggregation (ORDER BY an aggregate): the groups are
	// buffered. Nil: the merge order stands.
	PostOrder []SortKey
	// Limit and Offset (nil: none).
	Limit, Offset *ValueExpr
}

// SortKey is one sort key: the value column, and the WEIGHT_STRING() column that compares it
// by its collation when it is text (-1... none: Weight == NoColumn).
type SortKey struct {
	Col    int
	Weight int
	Desc   bool
}

// NoColumn marks the absence of a column in SortKey.Weight and Agg.Weight / Agg.Count.
const NoColumn = 1 << 30

// AggOp is what a column of a group's row is made of.
type AggOp uint8

const (
	// AggKey: a group key (every row of the group has the same, up to collation: the first
	// is kept). AggAny: a column that is not a key: any row's value (the first), as MySQL
	// without ONLY_FULL_GROUP_BY.
	AggKey AggOp = iota
	AggAny
	// AggCount: the sum of the shards' counts. AggSum: the sum of their sums (exact for
	// integers and decimals). AggMin, AggMax: compared as the column's type (text by its
	// WEIGHT_STRING()).
	AggCount
	AggSum
	AggMin
	AggMax
	// AggAvg: the shards give SUM(x) in Col and COUNT(x) in Count; the result is their
	// quotient, as MySQL computes AVG (decimal with 4 more digits, or double).
	AggAvg
	// AggCountDistinct and AggSumDistinct: the shards give the distinct values of x (x is
	// the last sort key, so equal values arrive one after the other).
	AggCountDistinct
	AggSumDistinct
)

var aggNames = [...]string{"key", "any", "count", "sum", "min", "max", "avg", "count_distinct", "sum_distinct"}

func (a AggOp) String() string { return aggNames[a] }

// Agg is one column of a group's row.
type Agg struct {
	Op     AggOp
	Col    int
	Weight int // AggMin, AggMax, AggKey of text: the WEIGHT_STRING() column; else NoColumn
	Count  int // AggAvg: the COUNT column
}

// Cond is a condition the gateway evaluates on a group's row (HAVING). Nil: none.
type Cond interface{ isCond() }

// CondExpr is a value in a condition.
type CondExpr interface{ isCondExpr() }

// Condition and expression nodes.
type (
	CondAnd    struct{ L, R Cond }
	CondOr     struct{ L, R Cond }
	CondNot    struct{ C Cond }
	CondIsNull struct {
		E   CondExpr
		Not bool
	}
	// CondCmp compares two numbers (MySQL's rules for numbers; NULL makes it unknown).
	CondCmp struct {
		Op   string // "=", "!=", "<", "<=", ">", ">=", "<=>"
		L, R CondExpr
	}
	// CondTruth is a numeric expression used as a condition (HAVING COUNT(*)).
	CondTruth struct{ E CondExpr }
	ExprCol   struct{ Col int }
	ExprValue struct{ V ValueExpr }
	ExprArith struct {
		Op   byte // + - * /
		L, R CondExpr
	}
	ExprNeg struct{ E CondExpr }
)

func (CondAnd) isCond()    {}
func (CondOr) isCond()     {}
func (CondNot) isCond()    {}
func (CondIsNull) isCond() {}
func (CondCmp) isCond()    {}
func (CondTruth) isCond()  {}

func (ExprCol) isCondExpr()   {}
func (ExprValue) isCondExpr() {}
func (ExprArith) isCondExpr() {}
func (ExprNeg) isCondExpr()   {}
