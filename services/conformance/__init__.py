"""The conformance kit: the checks any agency plug-in runs against itself before it is installed.

`superapp plugin check <service code or package>` (CLI, exit 0/1, one line per check) and the pytest plug-in
(`pytest -p services.conformance.pytest_plugin --superapp-plugin=<code>`) run the same checks (`checks.CHECKS`)
against a real server on loopback, a real database (SQLite in a temporary directory, or the PostgreSQL that
SUPERAPP_DATABASE_URL names) and the plug-in's own sandbox as a real HTTP server. docs/PLUGGING_IN_A_SERVICE.md
("Check your plug-in") says what each check asks of a plug-in.
"""
