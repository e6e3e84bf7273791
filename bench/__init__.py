"""Benchmarks and the fault-injecting proxy; importable by tests."""
