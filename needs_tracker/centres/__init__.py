"""Service centres (tenants) and their co-building organisations."""
