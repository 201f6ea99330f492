"""Test support: running services in process or as real processes, reading topics."""
