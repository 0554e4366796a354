"""Datto RMM (Kaseya): open and resolved alerts as tickets, kind ``datto-rmm``."""

from connectors.kaseya.datto_rmm.connector import DattoRmmConnector

__all__ = ["DattoRmmConnector"]
