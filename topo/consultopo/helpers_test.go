package consultopo_test

import (
	"strconv"
	"testing"
)

func itoa(n int) string { return strconv.Itoa(n) }

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
