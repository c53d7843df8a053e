"""Replay: the bundled real history served as a live feed, offline."""
