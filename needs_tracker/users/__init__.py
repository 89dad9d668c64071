"""User administration (admins) and the `user` CLI."""
