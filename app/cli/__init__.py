"""The `u4ssc-calendar` command line, on the same functions as the API.

Imports anything but app.api and app.main (serve imports the app by name).
"""
