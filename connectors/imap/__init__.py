"""E-mail over IMAP: one mailbox folder as mail threads joined to vendor tickets."""

from connectors.imap.connector import ImapConnector

__all__ = ["ImapConnector"]
