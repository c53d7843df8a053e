"""Market data: symbol resolution and providers. Nothing here imports Flask."""
