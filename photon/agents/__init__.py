"""Photon's agents: market monitor, decision maker and paper execution. No Flask imports here."""
