"""Visits (走访): one outing, several organisations, a mixed team."""
