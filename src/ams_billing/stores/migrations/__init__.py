"""The stores' Alembic migrations, run by :mod:`ams_billing.stores.versioning` (not a CLI).

Each revision in ``versions/`` states its own tables and columns, never importing
:mod:`ams_billing.stores.schema`: a migration must keep meaning what it meant when it shipped.
"""
