"""The maintained taxonomy of technical fields."""
