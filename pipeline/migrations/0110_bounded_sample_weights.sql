-- bounded_sample_weights: a stored row weighs at most 100 page views (MAX_SAMPLE_WEIGHT).
-- A beacon's weight is 1 / the sample rate its agent claims; before the collector raised
-- claims below 0.01 (collector/protocol.py, MIN_SAMPLE_RATE), a claim of 1e-45 stored an
-- infinite weight, after which weighted answers failed (apdex 500, slow-segments 503) and
-- one beacon claiming 1e-6 outweighed a site's traffic. Rows written since carry the bound
-- (the landing table's views write least(sample_weight, 100)); rows stored before are
-- bounded here, and the session rollup's hours that summed such a row are dropped, so the
-- roller rolls them again (as hours not rolled yet) from the bounded rows.
ALTER TABLE rum.sessions_hourly DELETE
WHERE hour IN (SELECT DISTINCT toStartOfHour(ts) FROM rum.events WHERE NOT (sample_weight <= 100))
SETTINGS mutations_sync = 2, allow_nondeterministic_mutations = 1;

ALTER TABLE rum.events UPDATE sample_weight = 100 WHERE NOT (sample_weight <= 100)
SETTINGS mutations_sync = 2;
