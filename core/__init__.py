"""Shared kernel: settings, storage, domain rules. Imports nothing from api, services, sync or notifications."""
