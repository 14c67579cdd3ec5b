"""Dossier-status notifications: outbox, FCM and SMS delivery (built in the notifications issue)."""
