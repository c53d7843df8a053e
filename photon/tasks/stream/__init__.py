"""The ``stream`` process's service (``service``) and what it and the rest of Photon tell each
other through Redis (``signals``): watch-list changes one way, stream health and coverage the
other."""
