"""Support code of the identity benchmark (`bench/identity.py`): a seeded generator of realistic child records,
the quality metrics, and the separate Splink environment used as the comparison."""
