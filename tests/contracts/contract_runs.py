"""How this project's tests run the contract suite in-process (``pytester.inline_run``)."""

from ams_billing.testing.scratch import ScratchStores

# Pytester drops the modules an inline run imported when the run ends, and SQLAlchemy and
# Alembic (used by the fake's durable harness and the restart tests) break when imported into
# one process a second time. Opening scratch stores once, here, imports all of them for good
# (and makes the schema template every run then copies).
ScratchStores().close()

# In-process runs share this process: leave out plugins that keep global state (pytest-django
# refuses to set Django's test environment up twice).
INLINE = ("-p", "no:cacheprovider", "-p", "no:django", "--strict-markers", "-W", "error")
