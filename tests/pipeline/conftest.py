"""Fixtures for the pipeline tests: the real Kafka-protocol broker."""

from tests.kafka_fixtures import kafka_broker  # noqa: F401  (a fixture, used by name)
