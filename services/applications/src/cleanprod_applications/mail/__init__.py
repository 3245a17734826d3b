"""E-mail from the notifications (docs/notifications.md "Mail"): audiences resolved to recipients through the
registry, one delivery per (notification, user), sent over SMTP by a claim/send/settle loop."""
