"""Reusable display pieces, one per module."""
