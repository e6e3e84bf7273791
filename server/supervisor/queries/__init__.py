"""Read-only queries behind the supervisor pages."""
