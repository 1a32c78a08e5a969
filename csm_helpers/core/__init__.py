"""The bottom layer: user-error classes, translation, safe writing and escaping, argument checks."""
