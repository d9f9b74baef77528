"""jawazat-events: an event-sourced notification engine for a passports directorate's e-services."""

__version__ = "0.1.0"
