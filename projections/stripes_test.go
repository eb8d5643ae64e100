package projections

import "testing"

// TestStripesLeaseDistinct: up to totalShards concurrent leases are all
// different stripes, starting at the process's first one; past that they
// share the least-held; a released stripe is leased again first.
func TestStripesLeaseDistinct(t *testing.T) {
	t.Parallel()
	s := &stripes{first: 29}
	seen := map[int16]bool{}
	for i := range totalShards {
		n := s.lease()
		if seen[n] {
			t.Fatalf("lease %d: stripe %d is already held", i, n)
		}
		if want := int16((29 + i) % totalShards); n != want {
			t.Fatalf("lease %d: stripe %d, want %d", i, n, want)
		}
		seen[n] = true
	}
	if n := s.lease(); n != 29 {
		t.Fatalf("33rd lease: stripe %d, want the first one, 29, shared", n)
	}
	s.release(3)
	if n := s.lease(); n != 3 {
		t.Fatalf("lease after releasing 3: stripe %d", n)
	}
	for n, held := range s.held {
		if want := map[bool]int{true: 2, false: 1}[n == 29]; held != want {
			t.Fatalf("stripe %d held %d times, want %d", n, held, want)
		}
	}
}
