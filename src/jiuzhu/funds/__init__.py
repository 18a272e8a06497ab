"""Funds (issue 7): funding sources, the append-only double-entry ledger, donations of
money and goods, and the reconciliation from sources to households (ADR 20)."""
