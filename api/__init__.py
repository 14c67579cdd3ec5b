"""Composition root: the Starlette app, the GraphQL schema, e-ID authentication and the CLI."""
