"""Sinks, sources and stores: batching, (later) Kafka, chDB and ClickHouse, migrations."""
