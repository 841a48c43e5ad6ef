-- SPDX-License-Identifier: PostgreSQL
-- sql/first_last.sql: the first and last aggregates.

-- ---- first and last (TimescaleDB 2.13) --------------------------------------
--
-- first(value, time): the value at the smallest time; last: at the largest.
-- Rows with a NULL time are ignored.  See agg/first_last.c.
CREATE FUNCTION _hyperdist_functions.first_transfn(internal, anyelement, "any")
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_first_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.last_transfn(internal, anyelement, "any")
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_last_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.first_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_first_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.last_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_last_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.bookend_serializefn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'hyperdist_bookend_serializefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.bookend_deserializefn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'hyperdist_bookend_deserializefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION _hyperdist_functions.bookend_finalfn(internal, anyelement, "any")
RETURNS anyelement
AS 'MODULE_PATHNAME', 'hyperdist_bookend_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE first(anyelement, "any") (
    SFUNC = _hyperdist_functions.first_transfn,
    STYPE = internal,
    COMBINEFUNC = _hyperdist_functions.first_combinefn,
    SERIALFUNC = _hyperdist_functions.bookend_serializefn,
    DESERIALFUNC = _hyperdist_functions.bookend_deserializefn,
    FINALFUNC = _hyperdist_functions.bookend_finalfn,
    FINALFUNC_EXTRA,
    PARALLEL = SAFE);

CREATE AGGREGATE last(anyelement, "any") (
    SFUNC = _hyperdist_functions.last_transfn,
    STYPE = internal,
    COMBINEFUNC = _hyperdist_functions.last_combinefn,
    SERIALFUNC = _hyperdist_functions.bookend_serializefn,
    DESERIALFUNC = _hyperdist_functions.bookend_deserializefn,
    FINALFUNC = _hyperdist_functions.bookend_finalfn,
    FINALFUNC_EXTRA,
    PARALLEL = SAFE);
