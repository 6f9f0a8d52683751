-- Personal data already stored before the guard of services/domain/pii.ts
-- caught every form of it (issue 19): quarantined rows kept broken rows,
-- duplicates and the rest verbatim, reasons could quote a value, and names
-- holding a landline written (028)85123456, 028 8512 3457 or 02885123458, or
-- an old 15-digit ID number, were loaded. This masks them where they lie:
-- quarantine (raw, reason, column), batch reasons, employer names in the
-- facts and what was derived from them (risk rows, alerts, the pack), and
-- the strings of alerts' evidence and e-mails' frozen payloads (an e-mail
-- still pending would otherwise be sent with them).
--
-- The same findings as maskPii, in SQL: 18-digit ID numbers with a birth
-- date (right check character, or a plausible region and a working-age
-- birth date and not an all-digit employer code), 15-digit ones (region,
-- YYMMDD), mobiles, landlines with an area code, e-mail addresses;
-- full-width digits and brackets count as ASCII. It leaves out maskPii's
-- exemptions for digits inside long hex words and for Message-IDs (none of
-- these columns holds either). A changed value keeps its full-width
-- characters as ASCII.
-- Masks are [id-number], [phone], [email]. Running it again changes nothing.

CREATE OR REPLACE FUNCTION pg_temp.ews_is_date(y int, m int, d int) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF y < 1 OR m < 1 OR m > 12 OR d < 1 THEN RETURN false; END IF;
  RETURN d <= extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day');
END $$;

CREATE OR REPLACE FUNCTION pg_temp.ews_is_division(c text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  prefecture int := substr(c, 3, 2)::int;
BEGIN
  IF substr(c, 1, 2)::int NOT IN (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
      41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82) THEN
    RETURN false;
  END IF;
  IF prefecture = 0 THEN RETURN substr(c, 5, 2) = '00'; END IF;
  RETURN prefecture <= 70 OR prefecture = 90;
END $$;

-- 18 characters (17 digits and a digit or X) that maskPii masks as an ID number.
CREATE OR REPLACE FUNCTION pg_temp.ews_is_id18(d text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  weights int[] := ARRAY[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  sum11 int := 0;
  sum31 int := 0;
  w31 int := 1;
  y int := substr(d, 7, 4)::int;
  this_year int := extract(year FROM now())::int;
  dated boolean;
BEGIN
  dated := y >= 1900 AND pg_temp.ews_is_date(y, substr(d, 11, 2)::int, substr(d, 13, 2)::int);
  IF NOT dated OR y > this_year THEN RETURN false; END IF;
  FOR i IN 1..17 LOOP
    sum11 := sum11 + substr(d, i, 1)::int * weights[i];
    sum31 := sum31 + substr(d, i, 1)::int * w31;
    w31 := (w31 * 3) % 31;
  END LOOP;
  IF substr('10X98765432', sum11 % 11 + 1, 1) = upper(substr(d, 18, 1)) THEN RETURN true; END IF;
  -- A wrong check character: a plausible region and working age, and not a valid employer code.
  IF NOT pg_temp.ews_is_division(substr(d, 1, 6)) OR y > this_year - 16 THEN RETURN false; END IF;
  RETURN substr('0123456789ABCDEFGHJKLMNPQRTUWXY', (31 - sum31 % 31) % 31 + 1, 1) <> substr(d, 18, 1);
END $$;

CREATE OR REPLACE FUNCTION pg_temp.ews_is_id15(d text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN pg_temp.ews_is_division(substr(d, 1, 6))
    AND pg_temp.ews_is_date(1900 + substr(d, 7, 2)::int, substr(d, 9, 2)::int, substr(d, 11, 2)::int);
END $$;

CREATE OR REPLACE FUNCTION pg_temp.ews_mask_pii(t text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  s text;
  m text[];
  b text := '(?<![0-9]|[0-9][.T:])';
  e text := '(?![0-9]|\.[0-9])';
  intl text := '(?:(?:\+|00)86[ -]?|\(\+?86\)[ -]?)';
  area text := '(?:10|2[0-9]|[3-9][0-9]{2})';
BEGIN
  IF t IS NULL OR (t !~ '[@＠]' AND length(regexp_replace(t, '[^0-9０-９]', '', 'g')) < 10) THEN
    RETURN t;
  END IF;
  s := translate(t, '０１２３４５６７８９（）－＋＠　', '0123456789()-+@ ');
  s := regexp_replace(s, '[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}', '[email]', 'g');
  FOR m IN SELECT regexp_matches(s, '(' || b || '([0-9]{6})[ -]?([0-9]{8})[ -]?([0-9]{3}[0-9Xx]))(?![0-9]|\.[0-9])', 'g') LOOP
    IF pg_temp.ews_is_id18(m[2] || m[3] || m[4]) THEN s := replace(s, m[1], '[id-number]'); END IF;
  END LOOP;
  FOR m IN SELECT regexp_matches(s, '(' || b || '([0-9]{6})[ -]?([0-9]{6})[ -]?([0-9]{3}))' || e, 'g') LOOP
    IF pg_temp.ews_is_id15(m[2] || m[3] || m[4]) THEN s := replace(s, m[1], '[id-number]'); END IF;
  END LOOP;
  s := regexp_replace(s, b || '(?:' || intl || '|86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}' || e, '[phone]', 'g');
  s := regexp_replace(s,
    b || '(?:\( ?0' || area || ' ?\)|0' || area || '|' || intl || '(?:\(0?' || area || '\)|0?' || area || '))'
      || '[ -]?[1-9][0-9]{2,3}[ -]?[0-9]{4}(?:[ -]?(?:转|ext\.?|x|#|-) ?[0-9]{1,6})?' || e,
    '[phone]', 'g');
  IF s = translate(t, '０１２３４５６７８９（）－＋＠　', '0123456789()-+@ ') THEN RETURN t; END IF;
  RETURN s;
END $$;

UPDATE quarantine SET raw = pg_temp.ews_mask_pii(raw), reason = pg_temp.ews_mask_pii(reason), column_name = pg_temp.ews_mask_pii(column_name)
 WHERE raw IS DISTINCT FROM pg_temp.ews_mask_pii(raw) OR reason IS DISTINCT FROM pg_temp.ews_mask_pii(reason)
    OR column_name IS DISTINCT FROM pg_temp.ews_mask_pii(column_name);

UPDATE batch SET reason = pg_temp.ews_mask_pii(reason), last_error = pg_temp.ews_mask_pii(last_error)
 WHERE reason IS DISTINCT FROM pg_temp.ews_mask_pii(reason) OR last_error IS DISTINCT FROM pg_temp.ews_mask_pii(last_error);

-- Names: only those with ten digits or an '@' are looked at closely.
UPDATE social_insurance SET name = pg_temp.ews_mask_pii(name)
 WHERE name ~ '([0-9０-９][^0-9０-９]*){10}|[@＠]' AND name <> pg_temp.ews_mask_pii(name);
UPDATE employer_risk SET name = pg_temp.ews_mask_pii(name)
 WHERE name ~ '([0-9０-９][^0-9０-９]*){10}|[@＠]' AND name <> pg_temp.ews_mask_pii(name);
UPDATE alert SET name = pg_temp.ews_mask_pii(name)
 WHERE name ~ '([0-9０-９][^0-9０-９]*){10}|[@＠]' AND name <> pg_temp.ews_mask_pii(name);
UPDATE series_pack SET name = pg_temp.ews_mask_pii(name)
 WHERE name ~ '([0-9０-９][^0-9０-９]*){10}|[@＠]' AND name <> pg_temp.ews_mask_pii(name);

-- Every string in a JSON document, at any depth; the recipient (an office's address the send needs) left as it is.
CREATE OR REPLACE FUNCTION pg_temp.ews_mask_jsonb(j jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  CASE jsonb_typeof(j)
    WHEN 'string' THEN RETURN to_jsonb(pg_temp.ews_mask_pii(j #>> '{}'));
    WHEN 'array' THEN RETURN (SELECT coalesce(jsonb_agg(pg_temp.ews_mask_jsonb(e) ORDER BY i), '[]'::jsonb) FROM jsonb_array_elements(j) WITH ORDINALITY a(e, i));
    WHEN 'object' THEN RETURN (SELECT coalesce(jsonb_object_agg(k, CASE WHEN k = 'recipient' THEN v ELSE pg_temp.ews_mask_jsonb(v) END), '{}'::jsonb) FROM jsonb_each(j) o(k, v));
    ELSE RETURN j;
  END CASE;
END $$;

UPDATE alert SET evidence = pg_temp.ews_mask_jsonb(evidence)
 WHERE evidence::text ~ '([0-9０-９][^0-9０-９]*){10}|[@＠]' AND evidence <> pg_temp.ews_mask_jsonb(evidence);
UPDATE notification SET payload = pg_temp.ews_mask_jsonb(payload)
 WHERE payload::text ~ '([0-9０-９][^0-9０-９]*){10}|[@＠]' AND payload <> pg_temp.ews_mask_jsonb(payload);

DROP FUNCTION pg_temp.ews_mask_jsonb(jsonb);
DROP FUNCTION pg_temp.ews_mask_pii(text);
DROP FUNCTION pg_temp.ews_is_id15(text);
DROP FUNCTION pg_temp.ews_is_id18(text);
DROP FUNCTION pg_temp.ews_is_division(text);
DROP FUNCTION pg_temp.ews_is_date(int, int, int);
