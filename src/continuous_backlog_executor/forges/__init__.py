"""Forges: where an item's branch becomes a pull request (see ``base`` for the contract)."""
