"""Coding agents the engine can drive (see ``base`` for the contract)."""
