"""Notifications: who is told what (rules.py), written in the transaction of the event that causes it (service.py),
read in the portal (views.py), reminders and overdue checks on a schedule (scheduler.py)."""
