"""The state directory and the only code that knows its layout (layout.py maps it): each module
owns its files there, and everything else asks them."""
