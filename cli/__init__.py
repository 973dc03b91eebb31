"""The `rum` command line: serve, migrate, report."""
