-- The console's acknowledgement times (ConsoleRepository.ackTimes) start an
-- alert's clock at its first event that left it open at Ⅰ–Ⅲ: this index
-- finds the recent ones without reading the whole history.
CREATE INDEX alert_event_clock_idx ON alert_event (at) WHERE to_status = 'open' AND to_level <= 3;
