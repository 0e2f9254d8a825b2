"""The app's migrations (``manage.py migrate ams_billing``)."""
