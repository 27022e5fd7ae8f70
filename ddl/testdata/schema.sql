-- Source schema for the ddl golden tests. The round-trip test runs it on a real
-- MariaDB server (statement by statement, split on lines holding only "-- ;;"),
-- reads SHOW CREATE for every object and compares with testdata/source.sql
-- (go test ./ddl -update rewrites it).
CREATE DATABASE `ddl_shop` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci
-- ;;
CREATE DATABASE `ddl_ref` DEFAULT CHARACTER SET latin1
-- ;;
CREATE TABLE `ddl_ref`.`country` (
  `code` char(2) NOT NULL,
  `name` varchar(100) NOT NULL,
  PRIMARY KEY (`code`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1
-- ;;
CREATE TABLE `ddl_shop`.`all_types` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `ti` tinyint(3) unsigned zerofill DEFAULT NULL,
  `si` smallint NOT NULL DEFAULT -5,
  `mi` mediumint unsigned DEFAULT 7,
  `i` int(11) DEFAULT NULL COMMENT 'an int, with a comma',
  `bi` bigint DEFAULT NULL,
  `dec_max` decimal(65,30) DEFAULT 0.5,
  `f` float DEFAULT NULL,
  `f2` float(7,3) DEFAULT NULL,
  `d` double DEFAULT NULL,
  `b1` bit(1) DEFAULT b'1',
  `b64` bit(64) DEFAULT NULL,
  `dt` date DEFAULT '2000-01-01',
  `tm` time(3) DEFAULT NULL,
  `dtm` datetime(6) DEFAULT current_timestamp(6),
  `ts` timestamp(2) NOT NULL DEFAULT current_timestamp(2) ON UPDATE current_timestamp(2),
  `yr` year DEFAULT NULL,
  `c` char(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT 'x''y',
  `vc` varchar(255) DEFAULT 'it''s, "quoted" `tick`',
  `vc_bin` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  `tt` tinytext DEFAULT NULL,
  `t` text CHARACTER SET latin1 DEFAULT NULL,
  `mt` mediumtext DEFAULT NULL,
  `lt` longtext DEFAULT NULL,
  `bn` binary(16) DEFAULT NULL,
  `vbn` varbinary(64) DEFAULT NULL,
  `tb` tinyblob DEFAULT NULL,
  `bl` blob DEFAULT NULL,
  `mb` mediumblob DEFAULT NULL,
  `lb` longblob DEFAULT NULL,
  `e` enum('a','b,c','d''e','f`g','h"i') DEFAULT 'b,c',
  `s` set('x','y;z','w''v','(u)') DEFAULT 'x,w''v',
  `j` json DEFAULT NULL CHECK (json_valid(`j`)),
  `hidden` int DEFAULT 42 INVISIBLE,
  `uuid_col` uuid DEFAULT NULL,
  `inet` inet6 DEFAULT NULL,
  `gen_v` int GENERATED ALWAYS AS (`i` * 2) VIRTUAL,
  `gen_s` varchar(300) AS (concat(`vc`, '-', `vc_bin`)) STORED,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_vc` (`vc`(100), `c`),
  KEY `idx_gen` (`gen_s`(50)),
  KEY `idx_dtm` (`dtm` DESC, `ts`) COMMENT 'index comment, with comma',
  CONSTRAINT `chk_si` CHECK (`si` > -100 and `si` < 1000)
) ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC COMMENT='all the types, (really)'
-- ;;
CREATE TABLE `ddl_shop`.`geo` (
  `id` int NOT NULL,
  `g` geometry NOT NULL,
  `p` point DEFAULT NULL,
  `l` linestring DEFAULT NULL,
  `pg` polygon DEFAULT NULL,
  `mp` multipoint DEFAULT NULL,
  `ml` multilinestring DEFAULT NULL,
  `mpg` multipolygon DEFAULT NULL,
  `gc` geometrycollection DEFAULT NULL,
  PRIMARY KEY (`id`),
  SPATIAL KEY `sp_g` (`g`)
) ENGINE=InnoDB
-- ;;
CREATE TABLE `ddl_shop`.`customers` (
  `id` int NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  `email` varchar(200) DEFAULT NULL,
  `country` char(2) CHARACTER SET latin1 DEFAULT NULL,
  `bio` text DEFAULT NULL,
  `notes` varchar(50) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_email` (`email`),
  KEY `idx_name_country` (`name`(20), `country`),
  FULLTEXT KEY `ft_bio` (`bio`, `name`),
  CONSTRAINT `fk_country` FOREIGN KEY (`country`) REFERENCES `ddl_ref`.`country` (`code`) ON UPDATE CASCADE
) ENGINE=InnoDB
-- ;;
CREATE TABLE `ddl_shop`.`order` (
  `id` int NOT NULL AUTO_INCREMENT,
  `customer_id` int NOT NULL,
  `select` varchar(10) DEFAULT 'select',
  `total` decimal(10,2) NOT NULL CHECK (`total` >= 0),
  `qty` int NOT NULL DEFAULT 1,
  `unit` decimal(10,2) GENERATED ALWAYS AS (`total` / `qty`) VIRTUAL,
  `placed` datetime NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`id`, `placed`),
  KEY `idx_customer` (`customer_id`),
  KEY `idx_select` (`select`),
  CONSTRAINT `fk_order_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE,
  CONSTRAINT `order_qty` CHECK (`qty` > 0 and `total` < 1000000)
) ENGINE=InnoDB
-- ;;
CREATE TABLE `ddl_shop`.`my-table` (
  `a``b` int NOT NULL,
  `名前` varchar(20) DEFAULT '名前',
  `MixedCase` int DEFAULT NULL,
  `with space` int DEFAULT NULL,
  `order_id` int DEFAULT NULL,
  `order_placed` datetime DEFAULT NULL,
  PRIMARY KEY (`a``b`),
  KEY `idx-名前` (`名前`),
  KEY `fk_my_order` (`order_id`, `order_placed`),
  CONSTRAINT `fk my order` FOREIGN KEY (`order_id`, `order_placed`) REFERENCES `order` (`id`, `placed`) ON DELETE SET NULL ON UPDATE NO ACTION
) ENGINE=InnoDB
-- ;;
CREATE TABLE `ddl_shop`.`a``b` (
  `id` int NOT NULL,
  `v` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB
-- ;;
CREATE TABLE `ddl_shop`.`MixedCase` (
  `Id` int NOT NULL,
  `ColName` int DEFAULT NULL,
  PRIMARY KEY (`Id`),
  KEY `IdxCol` (`ColName`)
) ENGINE=InnoDB
-- ;;
CREATE TABLE `ddl_shop`.`名前` (
  `列` int NOT NULL,
  PRIMARY KEY (`列`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
-- ;;
CREATE TABLE `ddl_shop`.`events_log` (
  `id` int NOT NULL,
  `created` date NOT NULL,
  `kind` varchar(20) NOT NULL,
  `payload` varchar(100) DEFAULT NULL,
  PRIMARY KEY (`id`, `created`),
  KEY `idx_expr` (`kind`, `created`)
) ENGINE=InnoDB
PARTITION BY RANGE (year(`created`))
SUBPARTITION BY HASH (`id`) SUBPARTITIONS 2
(PARTITION `p2020` VALUES LESS THAN (2021) COMMENT = 'old, archived',
 PARTITION `pmax` VALUES LESS THAN MAXVALUE)
-- ;;
CREATE TABLE `ddl_shop`.`by_list` (
  `id` int NOT NULL,
  `region` varchar(10) NOT NULL,
  PRIMARY KEY (`id`, `region`)
) ENGINE=InnoDB
PARTITION BY LIST COLUMNS(`region`)
(PARTITION `p_eu` VALUES IN ('de','fr'),
 PARTITION `p_us` VALUES IN ('us','ca'))
-- ;;
CREATE TABLE `ddl_shop`.`versioned` (
  `id` int NOT NULL,
  `price` int DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB WITH SYSTEM VERSIONING
-- ;;
CREATE TABLE `ddl_shop`.`versioned_explicit` (
  `id` int NOT NULL,
  `price` int DEFAULT NULL,
  `row_start` timestamp(6) GENERATED ALWAYS AS ROW START INVISIBLE,
  `row_end` timestamp(6) GENERATED ALWAYS AS ROW END INVISIBLE,
  PRIMARY KEY (`id`, `row_end`),
  PERIOD FOR SYSTEM_TIME (`row_start`, `row_end`)
) ENGINE=InnoDB WITH SYSTEM VERSIONING
-- ;;
CREATE TABLE `ddl_shop`.`app_period` (
  `id` int NOT NULL,
  `date_from` date NOT NULL,
  `date_to` date NOT NULL,
  PERIOD FOR `valid` (`date_from`, `date_to`),
  PRIMARY KEY (`id`, `valid` WITHOUT OVERLAPS)
) ENGINE=InnoDB
-- ;;
CREATE TABLE `ddl_shop`.`myisam_t` (
  `id` int NOT NULL,
  `body` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  FULLTEXT KEY `ft_body` (`body`)
) ENGINE=MyISAM DEFAULT CHARSET=latin1 CHECKSUM=1 DELAY_KEY_WRITE=1
-- ;;
CREATE TABLE `ddl_shop`.`long_uniq` (
  `id` int NOT NULL,
  `doc` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_doc` (`doc`) USING HASH,
  KEY `idx_ignored` (`id`, `doc`(10)) IGNORED
) ENGINE=InnoDB
-- ;;
CREATE SEQUENCE `ddl_shop`.`seq_ids` START WITH 100 INCREMENT BY 5
-- ;;
CREATE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `ddl_shop`.`v_orders` AS
  SELECT o.`id` AS `order_id`, c.`name`, c.`email`, o.`total`, o.`select`
  FROM `ddl_shop`.`order` o JOIN `ddl_shop`.`customers` c ON c.`id` = o.`customer_id`
  WHERE o.`total` > 0
-- ;;
CREATE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `ddl_shop`.`v_big_orders` AS
  SELECT `order_id`, `name`, `total` FROM `ddl_shop`.`v_orders` WHERE `total` > 100
-- ;;
CREATE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY INVOKER VIEW `ddl_shop`.`v_customer_country` AS
  SELECT c.`id`, c.`name`, k.`name` AS `country_name`
  FROM `ddl_shop`.`customers` c LEFT JOIN `ddl_ref`.`country` k ON k.`code` = c.`country`
-- ;;
CREATE DEFINER=`root`@`localhost` VIEW `ddl_shop`.`v_single` AS
  SELECT `id`, `name`, `email` FROM `ddl_shop`.`customers` WHERE `name` <> 'x, y'
  WITH CASCADED CHECK OPTION
-- ;;
CREATE DEFINER=`root`@`localhost` VIEW `ddl_shop`.`v_weird` AS
  SELECT t.`a``b`, t.`名前` AS `n`, m.`ColName` FROM `ddl_shop`.`my-table` t, `ddl_shop`.`MixedCase` m
  WHERE t.`MixedCase` = m.`Id`
-- ;;
CREATE DEFINER=`root`@`localhost` VIEW `ddl_shop`.`v_geo` AS
  SELECT `id`, st_astext(`p`) AS `p_text` FROM `ddl_shop`.`geo`
-- ;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `ddl_shop`.`add_order`(IN p_customer INT, IN p_total DECIMAL(10,2), OUT p_id INT)
    MODIFIES SQL DATA
    SQL SECURITY DEFINER
    COMMENT 'adds an order; uses `order`'
BEGIN
  -- a comment mentioning `customers` and FROM order
  DECLARE v_name VARCHAR(100) DEFAULT 'FROM customers';
  SELECT `name` INTO v_name FROM customers WHERE id = p_customer;
  INSERT INTO `order` (customer_id, total, `select`) VALUES (p_customer, p_total, 'x;y');
  SET p_id = LAST_INSERT_ID();
  UPDATE ddl_shop.customers SET notes = /* inline, FROM `order` */ 'ordered' WHERE id = p_customer;
  INSERT INTO ddl_ref.country (code, name) SELECT 'zz', v_name FROM DUAL WHERE 0;
END
-- ;;
CREATE DEFINER=`root`@`localhost` FUNCTION `ddl_shop`.`order_total`(p_customer INT) RETURNS decimal(12,2)
    READS SQL DATA
    DETERMINISTIC
BEGIN
  DECLARE v DECIMAL(12,2);
  SELECT COALESCE(SUM(o.total), 0) INTO v FROM `order` AS o JOIN customers c ON c.id = o.customer_id WHERE c.id = p_customer;
  RETURN v;
END
-- ;;
CREATE DEFINER=`root`@`localhost` FUNCTION `ddl_shop`.`plain_fn`(x INT) RETURNS int(11)
    NO SQL
    DETERMINISTIC
RETURN x * 2
-- ;;
CREATE DEFINER=`root`@`localhost` TRIGGER `ddl_shop`.`trg_order_bi` BEFORE INSERT ON `order` FOR EACH ROW
BEGIN
  IF NEW.total < 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'negative total; NEW.total';
  END IF;
  SET NEW.`select` = COALESCE(NEW.`select`, 'dflt');
  UPDATE customers SET notes = CONCAT('last order ', NEW.total) WHERE customers.id = NEW.customer_id;
END
-- ;;
CREATE DEFINER=`root`@`localhost` TRIGGER `ddl_shop`.`trg_customers_au` AFTER UPDATE ON `ddl_shop`.`customers` FOR EACH ROW
  INSERT INTO `ddl_shop`.`my-table` (`a``b`, `名前`) VALUES (OLD.id + 1000000, NEW.name)
