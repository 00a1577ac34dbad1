-- Objects for the mariadb-dump comparison: types, keys, a view, a trigger, a routine.
DROP TABLE IF EXISTS dump_types, dump_log;
DROP VIEW IF EXISTS dump_view;
DROP PROCEDURE IF EXISTS dump_proc;
CREATE TABLE dump_types (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ti TINYINT, de DECIMAL(12,4), fl FLOAT, db DOUBLE, bt BIT(5), yr YEAR,
  da DATE, dt DATETIME(3), ts TIMESTAMP(6) NULL, tm TIME(2),
  ch CHAR(3), vc VARCHAR(20) CHARACTER SET latin1, vb VARBINARY(10), tx TEXT, bl BLOB,
  en ENUM('a','b'), st SET('x','y'), js JSON, u8 VARCHAR(5) COLLATE utf8mb4_bin,
  UNIQUE KEY (vc), KEY (ti, de)) COMMENT 'dump fixture';
INSERT INTO dump_types VALUES
  (NULL, -5, -12.3456, 1.5, -2.25e100, b'10101', 2024, '2026-11-22', '2026-11-22 01:02:03.456',
   '2026-11-22 01:02:03.456789', '-838:59:59.99', 'abc', 'latïn', x'00ff', 'te\'xt\n', x'deadbeef',
   'b', 'x,y', '{"k": [1, 2]}', 'ünï'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL);
CREATE TABLE dump_log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(32));
CREATE TRIGGER dump_types_ai AFTER INSERT ON dump_types FOR EACH ROW INSERT INTO dump_log (what) VALUES (NEW.ch);
CREATE VIEW dump_view AS SELECT id, ch FROM dump_types WHERE id > 0;
CREATE PROCEDURE dump_proc(IN x INT) SELECT x + 1;
INSERT INTO dump_types (ch) VALUES ('trg');
