"""Django management commands of ams-billing."""
