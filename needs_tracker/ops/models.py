"""Models of the ops feature."""
