"""`rum demo`: the product working in one minute, without a live site or Grafana.

The embedded collector, a GeoIP database of the demo's places, a local shop that
embeds the real snippet, visitors from a traffic model (synthetic beacons and,
optionally, a real browser), incidents planted on a schedule, and alert rules that
fire to a local webhook receiver.
"""
