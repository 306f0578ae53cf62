"""The `huddle` command: main.py parses and dispatches (the error boundary of the CLI), here.py
is what every verb shares, and each verb group has a module of its own."""
