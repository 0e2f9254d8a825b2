"""How this project's tests run the contract suite in-process (``pytester.inline_run``)."""

# In-process runs share this process: leave out plugins that keep global state (pytest-django
# refuses to set Django's test environment up twice).
INLINE = ("-p", "no:cacheprovider", "-p", "no:django", "--strict-markers", "-W", "error")
