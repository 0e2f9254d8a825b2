"""The revisions, oldest first: 0001 schema, 0002 inbox claim index, 0003 status width."""
