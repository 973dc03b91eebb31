-- lcp_by_country: how fast is the largest paint in each country (the map)?
--
-- Parameters: site String ('' = all), since_ms Int64, until_ms Int64 (window, epoch ms).
-- Output, one row per known country, slowest first: country (ISO 3166-1 alpha-2),
--   samples (page views with an LCP), lcp_p75 (ms).
SELECT
    country,
    count(lcp) AS samples,
    round(quantile(0.75)(lcp), 1) AS lcp_p75
FROM rum.segmented_events(site = {site:String}, since_ms = {since_ms:Int64},
    until_ms = {until_ms:Int64}, d1 = '', d2 = '')
WHERE kind = 'pageview' AND lcp IS NOT NULL AND country != ''
GROUP BY country
ORDER BY lcp_p75 DESC, country
