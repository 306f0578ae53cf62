"""One module per Claude Code hook event, each with `handle(context) -> output or None`, and the
one way in: `entry.main(event_name)`, which hooks/run starts. The event is parsed once (events),
the handler gets it with where it happened (context), and prints at most one JSON object
(output). Only the module of the running event is imported, and the hot-path handlers import
nothing heavy: hooks pay for nothing they do not use.
"""
