"""Users, login and roles."""
