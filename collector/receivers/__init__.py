"""Receivers of other RUM agents' formats (Grafana Faro, Boomerang): each turns a request
into a v1 Envelope, and the intake's stages take it from there (docs/agents.md)."""
