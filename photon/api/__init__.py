"""HTTP API: one blueprint per resource, and the one error shape."""
