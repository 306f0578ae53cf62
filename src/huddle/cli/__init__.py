"""The `huddle` command: one module per verb, `main` is the way in."""
