--
-- Helpers the suites after this one share (the schedule runs it first).
--
-- same_rows(q1, q2, ...): how many rows q1 returns, and whether each other
-- query returns the same rows in the same order (the differential suites
-- compare distributed hypertables with a local table this way).
CREATE FUNCTION same_rows(VARIADIC q text[], OUT nrows bigint, OUT same boolean)
LANGUAGE plpgsql AS $$
DECLARE
  expected text[];
  got text[];
BEGIN
  EXECUTE format('SELECT array_agg(s::text) FROM (%s) s', q[1]) INTO expected;
  nrows := coalesce(array_length(expected, 1), 0);
  same := true;
  FOR i IN 2 .. array_length(q, 1) LOOP
    EXECUTE format('SELECT array_agg(s::text) FROM (%s) s', q[i]) INTO got;
    same := same AND got IS NOT DISTINCT FROM expected;
  END LOOP;
END
$$;

-- cagg_diff(c): how many rows continuous aggregate c and its definition,
-- run on the raw rows, do not share (0: the aggregate is up to date).
CREATE FUNCTION cagg_diff(c regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  def text;
  n bigint;
BEGIN
  SELECT view_definition INTO STRICT def FROM hyperdist_information.continuous_aggregates
   WHERE format('%I.%I', view_schema, view_name)::regclass = c;
  EXECUTE format('SELECT count(*) FROM ((TABLE %s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL TABLE %s)) d',
                 c, def, def, c) INTO n;
  RETURN n;
END $$;
