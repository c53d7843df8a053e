"""Photon: a multi-agent trading monitor (market data, explained decisions, paper execution).

The app factory lives in ``photon.app``; this package imports nothing so that ``photon.market`` and
``photon.agents`` stay free of Flask.
"""
