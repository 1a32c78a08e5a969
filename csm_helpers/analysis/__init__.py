"""The SPEC §1 statistics: DataFrame in, DataFrame out, each checked against a reference."""
