"""Kaseya BMS (PSA): service desk tickets, their notes and status writes, kind ``kaseya-bms``."""

from connectors.kaseya.bms.connector import KaseyaBmsConnector

__all__ = ["KaseyaBmsConnector"]
