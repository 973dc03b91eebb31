-- parts_by_country: rum.part_cells (migration 0180) also rolls the parts of LCP and INP, the
-- RTT and slow_net per country (set [1], beside [1, 2]: country + region), so that `why`
-- reads a country's histograms as one row an hour instead of adding up its regions', and
-- the regions' only for the countries it explains (queries/segment_parts_rolled.sql's
-- regions_of): on a 7-day window that is about a third of the rows. rollups/segments.py
-- PART_SETS lists both sets, and CELLS becomes 220, so every hour is rolled again and no
-- roll made before is read.
CREATE OR REPLACE VIEW rum.part_cells AS
SELECT site, set, vals, metric, sum(c) AS samples,
       arraySort(groupArray((bucket, c))) AS hist,
       arrayMap(x -> x.1, hist) AS buckets, arrayMap(x -> x.2, hist) AS counts
FROM (
    SELECT site, metric, bucket,
           if(grouping(region) = 1, CAST([1], 'Array(UInt8)'), CAST([1, 2], 'Array(UInt8)')) AS set,
           if(grouping(region) = 1, CAST([country], 'Array(String)'),
              CAST([country, region], 'Array(String)')) AS vals,
           toUInt32(count()) AS c
    FROM rum.part_samples(site = {site:String}, from_ms = {from_ms:Int64},
                          until_ms = {until_ms:Int64}, hole_from_ms = 0, hole_until_ms = 0,
                          grid_ratio = {grid_ratio:Float64}, grid_last = {grid_last:UInt16})
    GROUP BY GROUPING SETS ((site, metric, bucket, country), (site, metric, bucket, country, region))
)
GROUP BY site, set, vals, metric;
