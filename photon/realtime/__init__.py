"""Socket.IO: event names and rooms, one payload builder per event, and the handlers."""
