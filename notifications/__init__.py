"""Dossier-status notifications: the dispatcher drains core's outbox through FCM (firebase-admin) and SMS."""
