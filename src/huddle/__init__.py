"""huddle: parallel Claude Code sessions in one repository see each other, and talk."""

__version__ = "0.1.0"
