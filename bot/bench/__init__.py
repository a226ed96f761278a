"""`passnum bench`: the benchmark suite and the servers it measures."""
