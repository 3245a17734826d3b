"""The portal's public (anonymous) views: open calls and a dossier's status by its code."""
