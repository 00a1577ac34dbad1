package flavor

import (
	"strconv"
	"strings"
)

// Kind is a server family.
type Kind uint8

const (
	// Unknown is the zero Kind: nothing detected yet.
	Unknown Kind = iota
	// MariaDB servers use domain-server-seq GTIDs and SHOW SLAVE STATUS.
	MariaDB
	// MySQL servers use uuid:interval GTID sets and, from 8.0.22, SHOW REPLICA STATUS.
	MySQL
)

// String names the kind like Vitess's flavor names do.
func (k Kind) String() string {
	switch k {
	case MariaDB:
		return "MariaDB"
	case MySQL:
		return "MySQL"
	default:
		return "unknown"
	}
}

// Flavor is a server family and version, as detected from @@version.
type Flavor struct {
	Kind                Kind
	Major, Minor, Patch int
}

// Detect tells MariaDB from MySQL by the version string (SELECT @@version or the handshake's
// server version): MariaDB says so ("10.11.6-MariaDB-0+deb12u1", or "5.5.5-10.11.6-MariaDB" in
// old handshakes); anything else is MySQL.
func Detect(version string) Flavor {
	f := Flavor{Kind: MySQL}
	v := version
	if strings.Contains(strings.ToLower(version), "mariadb") {
		f.Kind = MariaDB
		// The replication-compatibility prefix MariaDB put in handshakes before 11.0.
		v = strings.TrimPrefix(v, "5.5.5-")
	}
	f.Major, f.Minor, f.Patch = parseVersion(v)
	return f
}

// parseVersion reads the leading "X.Y.Z" of v; missing parts are 0.
func parseVersion(v string) (major, minor, patch int) {
	var nums [3]int
	for i := 0; i < 3; i++ {
		j := 0
		for j < len(v) && v[j] >= '0' && v[j] <= '9' {
			j++
		}
		if j == 0 {
			break
		}
		nums[i], _ = strconv.Atoi(v[:j])
		v = v[j:]
		if len(v) == 0 || v[0] != '.' {
			break
		}
		v = v[1:]
	}
	return nums[0], nums[1], nums[2]
}

// AtLeast reports whether the version is at least major.minor.patch.
func (f Flavor) AtLeast(major, minor, patch int) bool {
	if f.Major != major {
		return f.Major > major
	}
	if f.Minor != minor {
		return f.Minor > minor
	}
	return f.Patch >= patch
}

// String is "MariaDB 10.11.6".
func (f Flavor) String() string {
	return f.Kind.String() + " " + strconv.Itoa(f.Major) + "." + strconv.Itoa(f.Minor) + "." + strconv.Itoa(f.Patch)
}

// SupportsResetConnection reports whether COM_RESET_CONNECTION exists (MariaDB 10.2.4+,
// MySQL 5.7.3+).
func (f Flavor) SupportsResetConnection() bool {
	switch f.Kind {
	case MariaDB:
		return f.AtLeast(10, 2, 4)
	case MySQL:
		return f.AtLeast(5, 7, 3)
	}
	return false
}
