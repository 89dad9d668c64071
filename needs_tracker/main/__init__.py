"""Home page and language switch."""
