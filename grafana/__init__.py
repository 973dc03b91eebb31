"""Grafana dashboards as code: a generator, its panel SQL, the generated JSON and provisioning."""
