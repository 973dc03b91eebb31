-- Query parameters kept on page URLs by the allow-list (RUM_KEEP_QUERY_PARAMS,
-- default utm_*), e.g. 'utm_source=mail&utm_campaign=winter'; all others are dropped.
ALTER TABLE rum.events ADD COLUMN IF NOT EXISTS page_query String AFTER page_path;
