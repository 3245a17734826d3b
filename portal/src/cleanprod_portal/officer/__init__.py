"""The programme officer's screens (issue 14): dashboard, calls, applications, case page, assignments, settings."""
