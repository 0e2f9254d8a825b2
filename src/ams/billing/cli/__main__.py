"""``python -m ams.billing.cli``: the same as the ``ams-billing`` command."""

from ams.billing.cli import main

if __name__ == "__main__":
    main()
