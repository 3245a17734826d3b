"""Programme results: verified savings by sector, district and period against the target (staff and public)."""
