"""What the tests and the benchmark share: the lockstep harness and the differential state
machines."""
