"""E-government integration (DESIGN.md "E-government integration", docs/egov-integration.md): dossier look-up by
code for the city's one-stop systems, the event feed, and signed webhook deliveries from the outbox."""
