"""Alerting: threshold rules, their evaluation (pending -> firing -> resolved), webhook delivery."""
