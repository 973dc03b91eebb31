"""The HTTP surface of the product: beacon intake, query API, /metrics, /healthz, enrichment."""
