package loadgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonicalShapeMovesTimersToTheirWait(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"already canonical", "UAAAATUATTUA", "UAAAATUATTUA"},
		{"an Update recorded before the timers of its wait", "UAAAATUATUTA", "UAAAATUATTUA"},
		{"a signal before the deadline", "UAAAASTSATTUA", "UAAAATSSATTUA"},
		{"timers only", "TT", "TT"},
		{"empty", "", ""},
		{"local activities separate waits like activities", "ULTUL", "ULTUL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, canonicalShape(tc.in))
		})
	}
}

func TestMeanCostTakesTheCommonCanonicalShape(t *testing.T) {
	p := meanCost([]Cost{
		{Activities: 6, WorkflowTasks: 8, Updates: 3, Timers: 3, Events: 57, Shape: "UAAAATUATUTA"},
		{Activities: 6, WorkflowTasks: 9, Updates: 3, Timers: 3, Events: 59, Shape: "UAAAATUATTUA"},
		{Activities: 6, WorkflowTasks: 10, Updates: 3, Timers: 2, Events: 55, Shape: "UAAAATUATUA"},
	})
	assert.Equal(t, PathCost{Sampled: 3, Activities: 6, WorkflowTasks: 9, Updates: 3, Timers: 8.0 / 3, Events: 57,
		Shape: "UAAAATUATTUA", ShapesSeen: 2}, p)
	assert.Equal(t, PathCost{}, meanCost(nil))
}

func TestDescribeShape(t *testing.T) {
	assert.Equal(t, "U 4A T U A 2T U A", describeShape("UAAAATUATTUA"))
	assert.Equal(t, "", describeShape(""))
}

func TestLeadingTimers(t *testing.T) {
	for in, want := range map[string]int{"": 0, "A": 0, "TTU": 2, "TA": 1, "UT": 0} {
		assert.Equal(t, want, leadingTimers(in), in)
	}
}

func TestParseMix(t *testing.T) {
	cases := []struct {
		in   string
		want Mix
		err  string
	}{
		{"counter=2,bank=1,abroad=1", Mix{PathCounter: 2, PathBank: 1, PathAbroad: 1}, ""},
		{" bank=1 ", Mix{PathBank: 1}, ""},
		{"bank=1,abroad=0", Mix{PathBank: 1, PathAbroad: 0}, ""},
		{"bank", nil, "want path=weight"},
		{"post=1", nil, "unknown path"},
		{"bank=-1", nil, "not a whole number"},
		{"bank=x", nil, "not a whole number"},
		{"bank=0", nil, "every weight is 0"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMix(tc.in)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMixSequenceInterleavesByWeight(t *testing.T) {
	cases := []struct {
		name string
		mix  Mix
		n    int
		want []string
	}{
		{"even", EvenMix(), 6, []string{PathCounter, PathBank, PathAbroad, PathCounter, PathBank, PathAbroad}},
		{"two to one to one", Mix{PathCounter: 2, PathBank: 1, PathAbroad: 1}, 4, []string{PathCounter, PathBank, PathAbroad, PathCounter}},
		{"one path", Mix{PathBank: 1}, 2, []string{PathBank, PathBank}},
		{"a zero weight", Mix{PathBank: 1, PathAbroad: 0}, 2, []string{PathBank, PathBank}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.mix.Sequence(tc.n))
		})
	}
	counts := map[string]int{}
	for _, p := range (Mix{PathCounter: 2, PathBank: 1, PathAbroad: 1}).Sequence(400) {
		counts[p]++
	}
	assert.Equal(t, map[string]int{PathCounter: 200, PathBank: 100, PathAbroad: 100}, counts)
}
