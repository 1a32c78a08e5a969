"""What a reader sees: safe HTML tables and callouts, table shapes, the methods appendix, charts."""
