"""Offline sync: change log, pull/push protocol and reference client (built in the offline-sync issue)."""
