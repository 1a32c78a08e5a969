"""The chart toolkit (style) and the charts of each stage."""
