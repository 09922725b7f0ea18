"""Importers: other formats into riskkit data packs."""
