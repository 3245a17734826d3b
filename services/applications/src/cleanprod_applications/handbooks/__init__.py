"""Handbooks library: cleaner-production handbooks and guidance per priority sector that officers publish —
a handbook has Vietnamese and English titles and numbered versions (PDF files, content-addressed like the
application documents); anyone may list and download them."""
