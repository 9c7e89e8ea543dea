"""Alembic migrations of the store, shipped as package data and run programmatically."""
