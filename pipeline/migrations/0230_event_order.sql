-- rumEventOrder(ts, event_id): one UInt256 that sorts events as the tuple (ts, event_id)
-- does, for the questions that take a session's segment from its earliest event (ties
-- broken by event id): journey, revenue_by_speed.sql and the session rollup's roll
-- (rollups/sql/sessions_roll.sql). argMin over this number gives the same row as argMin
-- over the tuple in a third of the time (2.4-3.6 s -> 1.1 s for the analytics bench's
-- day of 1.2 million sessions, bench/RESULTS.md): ClickHouse compares a tuple key column
-- by column, row by row. The bits, high to low: ts in epoch ms with its sign bit flipped
-- (so a signed time orders as unsigned), then the UUID as ClickHouse compares it (its high
-- 64 bits first, which toUInt128 puts low). tests/pipeline/test_schema.py checks the order
-- against the tuple's, ties and times before 1970 included.
-- SQL functions are global to a ClickHouse server, not to the rum database (hence the
-- prefix); on a cluster each server needs it (docs/deploy.md).
CREATE FUNCTION IF NOT EXISTS rumEventOrder AS (ts, event_id) ->
    bitOr(bitShiftLeft(toUInt256(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(ts)),
                                        9223372036854775808)), 128),
          bitOr(bitShiftLeft(toUInt256(bitAnd(toUInt128(event_id), 18446744073709551615)), 64),
                toUInt256(bitShiftRight(toUInt128(event_id), 64))));
