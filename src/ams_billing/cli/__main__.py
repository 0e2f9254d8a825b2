"""``python -m ams_billing.cli``: the same as the ``ams-billing`` command."""

from ams_billing.cli import main

if __name__ == "__main__":
    main(prog_name="ams-billing")
