"""The synthetic sample-study generator (data/sample)."""
