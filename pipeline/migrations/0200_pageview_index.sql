-- A bloom-filter skip index on rum.events.pageview_id, so that a question about a few page
-- views by id reads only the granules that may hold them instead of every row of the
-- window: page-views' check of which of its newest candidates began before the hour it
-- looked at (queries/page_views_newest.sql) and page-view, the drill-down's last step.
-- 0.1% false positives per id and granule, so a check of 50 ids reads ~5% of the
-- granules; ~1.8 bytes a row (18 MB for the analytics bench's 10M events, 2% of the
-- table), and no measurable insert cost (bench/RESULTS.md). MATERIALIZE builds it for the
-- rows already stored (a mutation, in the background); new parts get it as they are
-- written.
ALTER TABLE rum.events ADD INDEX IF NOT EXISTS pageview_bloom pageview_id TYPE bloom_filter(0.001) GRANULARITY 1;
ALTER TABLE rum.events MATERIALIZE INDEX pageview_bloom;
