"""The one way into the MCP server (`huddle-mcp`, or mcp/run in the plugin) and its error
boundary: it serves over stdio until the client closes it; an agent that is not Claude Code
then ends as a session does. Without the `mcp` package (the plugin's environment still being
built) it says so in one line and exits 1."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from huddle.mcp_server.server import build
    except ImportError as exc:
        print(
            f"huddle: the MCP server needs the `mcp` package ({exc}); the plugin installs it "
            "in its environment at the first session: it works from the next one",
            file=sys.stderr,
        )
        return 1
    from huddle.mcp_server.speaker import Speaker

    speaker = Speaker()
    try:
        build(speaker).run()
    except KeyboardInterrupt:
        pass
    finally:
        speaker.end()
    return 0


if __name__ == "__main__":
    sys.exit(main())
