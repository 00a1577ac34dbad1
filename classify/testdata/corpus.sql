-- Queries real clients send, one per block; blocks are separated by a line "====".
/* mysql-connector-java-8.0.33 (Revision: 7d6b0800528b6b25c68b52dc10d6c1c8429c100c) */SELECT  @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, @@character_set_connection AS character_set_connection, @@character_set_results AS character_set_results, @@character_set_server AS character_set_server, @@collation_server AS collation_server, @@collation_connection AS collation_connection, @@init_connect AS init_connect, @@interactive_timeout AS interactive_timeout, @@license AS license, @@lower_case_table_names AS lower_case_table_names, @@max_allowed_packet AS max_allowed_packet, @@net_write_timeout AS net_write_timeout, @@performance_schema AS performance_schema, @@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, @@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout
====
SET character_set_results = NULL
====
SET autocommit=1
====
SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED
====
select @@version_comment limit 1
====
SELECT DATABASE(), USER() limit 1
====
SHOW VARIABLES LIKE 'lower_case_%'; SHOW VARIABLES LIKE 'sql_mode'; SELECT COUNT(*) AS support_ndb FROM information_schema.ENGINES WHERE Engine = 'ndbcluster'
====
SELECT @@read_only
====
SELECT @@global.read_only, @@global.gtid_binlog_pos
====
SHOW MASTER STATUS
====
SHOW SLAVE STATUS
====
SHOW GLOBAL VARIABLES LIKE 'binlog_format'
====
FLUSH TABLES WITH READ LOCK
====
SHOW CREATE TABLE `commerce`.`customer`
====
SELECT * FROM `customer` WHERE `customer_id` = 1 LIMIT 1
====
SELECT `customer`.`id`, `customer`.`email` FROM `customer` WHERE (`customer`.`email` LIKE '%@example.com' AND `customer`.`id` > 10) ORDER BY `customer`.`id` DESC LIMIT 21
====
INSERT INTO `corder` (`customer_id`, `sku`, `price`) VALUES (1, 'SKU-1002', 30) RETURNING `order_id`
====
INSERT INTO t (a, b) VALUES (1, 'x') ON DUPLICATE KEY UPDATE b = VALUES(b), a = LAST_INSERT_ID(a)
====
UPDATE sbtest1 SET k=k+1 WHERE id=5012
====
DELETE FROM sbtest1 WHERE id=5012
====
SELECT c FROM sbtest1 WHERE id BETWEEN 4911 AND 5010 ORDER BY c
====
SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 4911 AND 5010 ORDER BY c
====
SELECT SQL_CALC_FOUND_ROWS * FROM posts WHERE author = 7 LIMIT 10; SELECT FOUND_ROWS()
====
-- MySQL dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;
DROP TABLE IF EXISTS `t`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
CREATE TABLE `t` (
  `a` int(11) NOT NULL,
  PRIMARY KEY (`a`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
/*!40101 SET character_set_client = @saved_cs_client */;
LOCK TABLES `t` WRITE;
/*!40000 ALTER TABLE `t` DISABLE KEYS */;
INSERT INTO `t` VALUES (1),(2);
/*!40000 ALTER TABLE `t` ENABLE KEYS */;
UNLOCK TABLES;
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
====
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `t_ai` AFTER INSERT ON `t` FOR EACH ROW BEGIN
  INSERT INTO audit VALUES (NEW.a, NOW());
END */
====
select get_lock('gh-ost.1234.lock', 0) as lock_result
====
lock /* gh-ost */ tables `commerce`.`customer` write, `commerce`.`_customer_del` write
====
rename /* gh-ost */ table `commerce`.`customer` to `commerce`.`_customer_del`, `commerce`.`_customer_gho` to `commerce`.`customer`
====
select release_lock('gh-ost.1234.lock')
====
CREATE TRIGGER `pt_osc_commerce_customer_ins` AFTER INSERT ON `commerce`.`customer` FOR EACH ROW BEGIN DECLARE CONTINUE HANDLER FOR 1146 begin end; REPLACE INTO `commerce`.`_customer_new` (`id`, `email`) VALUES (NEW.`id`, NEW.`email`);END
====
SELECT /*vt+ QUERY_TIMEOUT_MS=1000 */ * FROM customer
====
/*vt+ WORKLOAD_NAME=debezium */ SHOW VITESS_SHARDS LIKE 'commerce/%'
====
SHOW FULL PROCESSLIST
====
SELECT id, user, host, db, command, time, state, info FROM information_schema.PROCESSLIST WHERE command <> 'Sleep'
====
SELECT * FROM information_schema.INNODB_LOCK_WAITS
====
select * from sys.schema_table_lock_waits
====
KILL QUERY 123
====
KILL 123
====
XA START 'trx1'; INSERT INTO t VALUES (3); XA END 'trx1'; XA PREPARE 'trx1'
====
SET STATEMENT max_statement_time=5 FOR SELECT SLEEP(10)
====
SELECT LAST_INSERT_ID(), ROW_COUNT()
====
SELECT @@IDENTITY
====
CALL sp_report(@total, 'x'); SELECT @total
====
PREPARE stmt FROM 'SELECT * FROM t WHERE a = ?'; SET @a = 1; EXECUTE stmt USING @a; DEALLOCATE PREPARE stmt
====
LOAD DATA LOCAL INFILE '/tmp/rows.csv' INTO TABLE t FIELDS TERMINATED BY ','
====
SELECT * FROM t INTO OUTFILE '/tmp/t.csv'
====
CREATE TEMPORARY TABLE tmp_ids (id INT PRIMARY KEY) ENGINE=MEMORY; INSERT INTO tmp_ids SELECT id FROM t; SELECT * FROM t JOIN tmp_ids USING (id); DROP TEMPORARY TABLE tmp_ids
====
BEGIN NOT ATOMIC
  DECLARE i INT DEFAULT 0;
  WHILE i < 3 DO
    INSERT INTO t VALUES (i);
    SET i = i + 1;
  END WHILE;
END
====
WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 10) SELECT n FROM seq
====
SELECT JSON_EXTRACT(doc, '$.a;b') AS "x;y" FROM docs WHERE doc->>'$.k' = 'v'
====
HANDLER t OPEN; HANDLER t READ FIRST; HANDLER t CLOSE
====
SELECT 1; SELECT 2 -- trailing
====
GRANT SELECT ON commerce.* TO 'reader'@'%'
====
SET PASSWORD FOR 'app'@'%' = PASSWORD('secret')
====
SET GLOBAL read_only = ON
====
CHANGE MASTER TO MASTER_HOST='10.0.0.1', MASTER_USE_GTID=slave_pos; START SLAVE
====
SHOW BINLOG EVENTS IN 'binlog.000001' LIMIT 10
====
SELECT BINLOG_GTID_POS('binlog.000001', 600)
====
SELECT MASTER_GTID_WAIT('0-1-100', 10)
====
SHOW ENGINE INNODB STATUS
====
USE `commerce`
====
SHOW DATABASES
====
SELECT CONNECTION_ID()
====
SELECT @@session.autocommit
====
SHOW WARNINGS
====
SHOW COUNT(*) WARNINGS
====
GET DIAGNOSTICS CONDITION 1 @sqlstate = RETURNED_SQLSTATE, @msg = MESSAGE_TEXT
====
SAVEPOINT sp1; ROLLBACK TO SAVEPOINT sp1; RELEASE SAVEPOINT sp1
====
COMMIT AND CHAIN RELEASE
====
ANALYZE FORMAT=JSON SELECT * FROM t WHERE a > 1
====
EXPLAIN SELECT * FROM t
====
SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01 00:00:00'
====
SELECT NEXT VALUE FOR seq1, PREVIOUS VALUE FOR seq1
====
SELECT * FROM t WHERE a = 1 FOR UPDATE SKIP LOCKED
====
DO RELEASE_ALL_LOCKS()
====
SET @x := 10, @y = @x + 1
====
SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'
====
SET sql_mode = 'ANSI_QUOTES'; SELECT "a;b" FROM t
====
SELECT 'O\'Reilly; DROP TABLE t; --' AS title
====
