"""Models of the matching feature."""
