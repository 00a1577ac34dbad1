-- The sequence PyMySQL users run, as SQL on a mariadb CLI session of its own that then exits.
SET autocommit = 0;
SELECT 1;
COMMIT;
SET autocommit = 1;
INSERT INTO {T} (note, v) VALUES ('after_toggle', 8);
SELECT IF(ROW_COUNT() = 1, '@committed after_toggle', '-');
