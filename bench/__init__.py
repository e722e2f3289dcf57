"""Switchboard benchmarks (``make bench``): figures, each beside a baseline from the same run."""
