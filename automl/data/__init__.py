"""Reading tables, inferring column types, encoding them, and per-family views."""
