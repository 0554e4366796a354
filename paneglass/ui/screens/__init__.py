"""Screens: where behaviour lives; the app only wires them."""
