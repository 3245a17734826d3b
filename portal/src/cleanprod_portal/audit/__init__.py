"""The auditor's screens: the audit search across the three services' entries, its CSV."""
