"""The hook benchmark: bench/hooks.py runs it; a package so that its parts import each other
the same way whether it runs as a script or the tests load it."""
