"""Pages for development only, each off unless a setting turns it on (devstack does)."""
