"""Which verifier may read which application: learnt from the verification service's events."""
