-- SPDX-License-Identifier: PostgreSQL
-- sql/time_bucket.sql: time_bucket, inlined into plain built-ins.

-- ---- time_bucket (TimescaleDB 2.13) ----------------------------------------
--
-- Every time_bucket is an IMMUTABLE SQL function, neither STRICT nor with a
-- SET clause, whose body is one expression of built-in functions, operators
-- and CASE (or a call of another time_bucket that is itself such a
-- function), so the planner inlines it (inline_function() in clauses.c):
-- what reaches the FDW is built-ins only, which data nodes without the
-- extension can run.  With a constant bucket_width the CASE arms that test
-- only the width fold away; widths without months become a bare date_bin().
-- The bodies are SQL-standard (RETURN), parsed once at creation, so they do
-- not depend on the caller's search_path.
--
-- Semantics are TimescaleDB's: buckets are aligned on origin (default
-- 2000-01-03, a Monday), month widths count whole months from origin's
-- month (day and time of origin are ignored, so the default is 2000-01),
-- timestamptz buckets are computed in UTC, infinite times come back
-- unchanged, NULL in gives NULL out.
--
-- Errors come from built-ins, with TimescaleDB's SQLSTATE: a width <= 0 is
-- 22023 through date_part() with a unit that is the message (date_bin()
-- itself would raise 22008), months mixed with days or time are 0A000 from
-- date_bin().  The raising arms refer to bucket_width so that the planner
-- cannot fold them into a plan-time error when the width is not a constant;
-- with a constant invalid width the error does come at plan time.

-- The core for timestamp; the other interval variants reduce to it.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMP, origin TIMESTAMP)
RETURNS TIMESTAMP
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  -- no months: date_bin() is TimescaleDB's bucketing
  WHEN date_part('year', bucket_width) * 12 + date_part('month', bucket_width) = 0
       AND bucket_width > interval '0'
    THEN date_bin(bucket_width, ts, origin)
  WHEN bucket_width IS NULL OR origin IS NULL THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  -- months with days or time: date_bin() raises 0A000
  WHEN date_part('year', bucket_width) * 12 + date_part('month', bucket_width) <> 0
       AND (date_part('day', bucket_width) <> 0
            OR date_trunc('day', bucket_width) <> bucket_width)
    THEN date_bin(bucket_width, ts, origin)
  WHEN bucket_width <= interval '0'
    THEN ts + bucket_width * date_part('bucket_width must be greater than 0', bucket_width)
  -- whole months: the start of origin's month plus whole buckets
  ELSE date_trunc('month', origin)
       + bucket_width * floor(((date_part('year', ts) - date_part('year', origin)) * 12
                               + date_part('month', ts) - date_part('month', origin))
                              / (date_part('year', bucket_width) * 12
                                 + date_part('month', bucket_width)))
END;

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMP)
RETURNS TIMESTAMP
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts, timestamp '2000-01-03');

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMP, "offset" INTERVAL)
RETURNS TIMESTAMP
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset") + "offset";

-- Month buckets of a timestamptz are computed in UTC, as TimescaleDB does.
-- UTC is written as the zone interval '0': timezone(interval, ...) takes no
-- collation, which the FDW could not vouch for on the data nodes.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ, origin TIMESTAMPTZ)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN date_part('year', bucket_width) * 12 + date_part('month', bucket_width) = 0
       AND bucket_width > interval '0'
    THEN date_bin(bucket_width, ts, origin)
  ELSE time_bucket(bucket_width, ts AT TIME ZONE interval '0',
                   origin AT TIME ZONE interval '0')
       AT TIME ZONE interval '0'
END;

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts, timestamptz '2000-01-03 00:00:00+00');

-- timestamptz +/- interval depends on the TimeZone setting (it is STABLE)
-- and would stop the inlining, so the offset is applied in UTC; TimescaleDB
-- applies it in the session's time zone, which differs only for offsets
-- with days or months across a DST change.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ, "offset" INTERVAL)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (time_bucket(bucket_width, (ts AT TIME ZONE interval '0') - "offset") + "offset")
       AT TIME ZONE interval '0';

-- Buckets in the given time zone: the local time there is bucketed and the
-- bucket's local start converted back.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts TIMESTAMPTZ, timezone TEXT,
                            origin TIMESTAMPTZ DEFAULT NULL, "offset" INTERVAL DEFAULT NULL)
RETURNS TIMESTAMPTZ
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (time_bucket(bucket_width,
                    (ts AT TIME ZONE timezone) - coalesce("offset", interval '0'),
                    coalesce(origin AT TIME ZONE timezone, timestamp '2000-01-03'))
        + coalesce("offset", interval '0')) AT TIME ZONE timezone;

-- A date bucket is a whole number of days or of months (TimescaleDB raises
-- 0A000 for other widths; this is 22023, see above).
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts DATE, origin DATE)
RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN date_trunc('day', bucket_width) = bucket_width
       OR date_part('year', bucket_width) * 12 + date_part('month', bucket_width) <> 0
    THEN time_bucket(bucket_width, ts::timestamp, origin::timestamp)::date
  ELSE (ts + bucket_width * date_part('bucket_width must be a whole number of days',
                                      bucket_width))::date
END;

CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts DATE)
RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts, date '2000-01-03');

-- As TimescaleDB: the shifted time is truncated to a date before bucketing.
CREATE FUNCTION time_bucket(bucket_width INTERVAL, ts DATE, "offset" INTERVAL)
RETURNS DATE
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (time_bucket(bucket_width, (ts - "offset")::date) + "offset")::date;

-- Integer buckets start at multiples of bucket_width: ts minus its
-- remainder, made non-negative so that negative times round down.
-- Overflow near the type's limits raises 22003, as in TimescaleDB.
CREATE FUNCTION time_bucket(bucket_width SMALLINT, ts SMALLINT)
RETURNS SMALLINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN bucket_width > 0
    THEN ts - CASE WHEN ts % bucket_width < 0 THEN ts % bucket_width + bucket_width
                   ELSE ts % bucket_width END
  ELSE date_part('bucket_width must be greater than 0',
                 bucket_width * interval '1 microsecond')::smallint
END;

CREATE FUNCTION time_bucket(bucket_width INTEGER, ts INTEGER)
RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN bucket_width > 0
    THEN ts - CASE WHEN ts % bucket_width < 0 THEN ts % bucket_width + bucket_width
                   ELSE ts % bucket_width END
  ELSE date_part('bucket_width must be greater than 0',
                 bucket_width * interval '1 microsecond')::integer
END;

CREATE FUNCTION time_bucket(bucket_width BIGINT, ts BIGINT)
RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
  WHEN bucket_width > 0
    THEN ts - CASE WHEN ts % bucket_width < 0 THEN ts % bucket_width + bucket_width
                   ELSE ts % bucket_width END
  ELSE date_part('bucket_width must be greater than 0',
                 bucket_width * interval '1 microsecond')::bigint
END;

-- With an offset, buckets start at multiples of bucket_width plus offset;
-- the offset is first reduced modulo the width, as TimescaleDB does, so
-- that only times near the type's limits overflow.  NULLIF lets a zero
-- width reach the 22023 above instead of dividing by zero.
CREATE FUNCTION time_bucket(bucket_width SMALLINT, ts SMALLINT, "offset" SMALLINT)
RETURNS SMALLINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset" % nullif(bucket_width, 0))
       + "offset" % nullif(bucket_width, 0);

CREATE FUNCTION time_bucket(bucket_width INTEGER, ts INTEGER, "offset" INTEGER)
RETURNS INTEGER
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset" % nullif(bucket_width, 0))
       + "offset" % nullif(bucket_width, 0);

CREATE FUNCTION time_bucket(bucket_width BIGINT, ts BIGINT, "offset" BIGINT)
RETURNS BIGINT
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN time_bucket(bucket_width, ts - "offset" % nullif(bucket_width, 0))
       + "offset" % nullif(bucket_width, 0);
