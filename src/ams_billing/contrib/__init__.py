"""Integrations with web stacks: framework-neutral WSGI/ASGI webhook apps, and Django."""
