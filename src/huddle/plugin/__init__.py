"""The installed plugin around the package: its folder, its data directory's virtual environment."""
