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
