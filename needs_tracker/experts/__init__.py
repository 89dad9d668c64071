"""The shared pool of experts and resources (labs, platforms, achievements, patents)."""
