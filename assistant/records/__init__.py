"""Structured records (CSV under corpus/records): schema, loading, validation, query engine."""
