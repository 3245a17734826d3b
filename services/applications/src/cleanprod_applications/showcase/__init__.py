"""Showcase projects: with the enterprise's consent, its verified project is listed publicly (what it did, what it
saved) so that other facilities can copy what worked."""
