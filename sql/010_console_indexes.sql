-- Indexes for the console's reads (services/console/console.repository.ts),
-- measured with `npm run bench:api` (100,000 alerts over 36 months; see
-- docs/performance.md). The alert table's rows are wide (the evidence JSON,
-- ~500 bytes, stays in the row), so every list, count and search that reads
-- the table itself pays for 10,000 pages; these let them read narrow indexes.

-- The alert list and its count, in the list's default order (updated, newest
-- first; alert_id breaks ties in the same direction), with every filter
-- column and the search columns: a page's ids, far into the list too, and the
-- count are index-only scans; only the page's rows are then read. The second
-- index is the same within one city, for city officials and the city filter.
CREATE INDEX alert_list_idx ON alert (updated_at DESC, alert_id DESC)
  INCLUDE (city_code, status, level, kind, first_period, last_period, opened_at, name, subject);
CREATE INDEX alert_city_list_idx ON alert (city_code, updated_at DESC, alert_id DESC)
  INCLUDE (status, level, kind, first_period, last_period, opened_at, name, subject);

-- A city's alerts with a signal in a range of months (the CSV export, the
-- list's from/to): the months bound the scan instead of all the city's rows.
CREATE INDEX alert_city_period_idx ON alert (city_code, last_period, first_period);

-- Active alerts per city and level (the province overview).
CREATE INDEX alert_status_city_idx ON alert (status, city_code, level);

-- Acknowledgement times of the alerts opened lately at Ⅰ–Ⅲ (the overview's ackTimes).
CREATE INDEX alert_opened_idx ON alert (opened_at) INCLUDE (city_code, level, acknowledged_at, resolved_at)
  WHERE level <= 3;

-- The list's search: part of a name or a code, three characters or more
-- (shorter text is matched on alert_list_idx's copy of both).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX alert_name_trgm_idx ON alert USING gin (name gin_trgm_ops);
CREATE INDEX alert_subject_trgm_idx ON alert USING gin (subject gin_trgm_ops);

-- The e-mails that named an alert (its detail page), asked as alert_ids @> ARRAY[id].
CREATE INDEX notification_alert_ids_idx ON notification USING gin (alert_ids);
