"""paneglass: one live terminal view of every vendor's tickets, SLAs and status."""

__version__ = "0.1.0"
