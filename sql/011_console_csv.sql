-- The console's CSV export and housekeeping after 010.
--
-- ews_csv_field: one CSV field, exactly as services/api/csv.ts writes it,
-- so PostgreSQL builds each exported line and the API only passes text on:
-- text a spreadsheet would run as a formula (= + - @, a tab or a carriage
-- return first) gets an apostrophe in front; a field with a quote, comma or
-- line break, or with space at either end (the spaces JavaScript's trim()
-- removes that occur in names: ASCII, no-break, ideographic, BOM), is
-- quoted with quotes doubled. No regular expressions: this runs for every
-- field of every exported row.
-- NULL in, NULL out (the caller writes an empty field). One expression, not
-- STRICT and without a FROM, so the planner inlines it into the export query.
CREATE FUNCTION ews_csv_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN value IS NULL THEN NULL
           WHEN strpos(value, '"') > 0 OR strpos(value, ',') > 0 OR strpos(value, chr(10)) > 0 OR strpos(value, chr(13)) > 0
                OR rtrim(value, ' ' || chr(9) || chr(11) || chr(12) || chr(160) || chr(12288) || chr(65279)) <> value
                OR (left(value, 1) NOT IN ('=', '+', '-', '@', chr(9), chr(13))
                    AND ltrim(value, ' ' || chr(9) || chr(11) || chr(12) || chr(160) || chr(12288) || chr(65279)) <> value)
           THEN '"' || replace(CASE WHEN left(value, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || value ELSE value END, '"', '""') || '"'
           ELSE CASE WHEN left(value, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) THEN '''' || value ELSE value END
         END
$$;

-- 010's list indexes (ordered like the default sort, carrying the filter
-- columns) answer everything these two from 008 did.
DROP INDEX IF EXISTS alert_city_updated_idx;
DROP INDEX IF EXISTS alert_updated_idx;
