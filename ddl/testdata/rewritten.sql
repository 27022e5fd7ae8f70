-- object: table `ddl_shop`.`MixedCase`
CREATE TABLE `ddl_shop_dst`.`MixedCase` (
  `Id` int(11) NOT NULL,
  `col_name` int(11) DEFAULT NULL,
  PRIMARY KEY (`Id`),
  KEY `IdxCol` (`col_name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`a``b`
CREATE TABLE `ddl_shop_dst`.`a````b``` (
  `id` int(11) NOT NULL,
  `v` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`all_types`
CREATE TABLE `ddl_shop_dst`.`all_types` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `ti` tinyint(3) unsigned zerofill DEFAULT NULL,
  `si` smallint(6) NOT NULL DEFAULT -5,
  `mi` mediumint(8) unsigned DEFAULT 7,
  `i_renamed` int(11) DEFAULT NULL COMMENT 'an int, with a comma',
  `bi` bigint(20) DEFAULT NULL,
  `dec_max` decimal(65,30) DEFAULT 0.500000000000000000000000000000,
  `f` float DEFAULT NULL,
  `f2` float(7,3) DEFAULT NULL,
  `d` double DEFAULT NULL,
  `b1` bit(1) DEFAULT b'1',
  `b64` bit(64) DEFAULT NULL,
  `dt` date DEFAULT '2000-01-01',
  `tm` time(3) DEFAULT NULL,
  `dtm` datetime(6) DEFAULT current_timestamp(6),
  `ts` timestamp(2) NOT NULL DEFAULT current_timestamp(2) ON UPDATE current_timestamp(2),
  `yr` year(4) DEFAULT NULL,
  `c` char(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT 'x''y',
  `vc2` varchar(255) DEFAULT 'it''s, "quoted" `tick`',
  `vc_bin` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  `t` text CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,
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
  `doc` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`doc`)),
  `hidden` int(11) INVISIBLE DEFAULT 42,
  `uuid_col` uuid DEFAULT NULL,
  `inet` inet6 DEFAULT NULL,
  `gen_v` int(11) GENERATED ALWAYS AS (`i_renamed` * 2) VIRTUAL,
  `gen_s` varchar(300) GENERATED ALWAYS AS (concat(`vc2`,'-',`vc_bin`)) STORED,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_vc` (`vc2`(100),`c`),
  KEY `idx_gen` (`gen_s`(50)),
  KEY `idx_dtm` (`dtm` DESC,`ts`) COMMENT 'index comment, with comma',
  CONSTRAINT `chk_si` CHECK (`si` > -100 and `si` < 1000)
) ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC COMMENT='all the types, (really)'
-- object: table `ddl_shop`.`app_period`
CREATE TABLE `ddl_shop_dst`.`app_period` (
  `id` int(11) NOT NULL,
  `date_from` date NOT NULL,
  `date_until` date NOT NULL,
  PERIOD FOR `valid` (`date_from`, `date_until`),
  PRIMARY KEY (`id`,`valid` WITHOUT OVERLAPS)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`by_list`
CREATE TABLE `ddl_shop_dst`.`by_list` (
  `id` int(11) NOT NULL,
  `area` varchar(10) NOT NULL,
  PRIMARY KEY (`id`,`area`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
 PARTITION BY LIST  COLUMNS(`area`)
(PARTITION `p_eu` VALUES IN ('de','fr') ENGINE = InnoDB,
 PARTITION `p_us` VALUES IN ('us','ca') ENGINE = InnoDB)
-- object: table `ddl_shop`.`customers`
CREATE TABLE `ddl_shop_dst`.`clients` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `full_name` varchar(100) NOT NULL,
  `email` varchar(200) DEFAULT NULL,
  `country` char(2) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,
  `bio` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_email` (`email`),
  KEY `idx_name_country` (`full_name`(20),`country`),
  KEY `fk_country` (`country`),
  FULLTEXT KEY `ft_bio` (`bio`,`full_name`),
  CONSTRAINT `fk_country` FOREIGN KEY (`country`) REFERENCES `ddl_ref_dst`.`nations` (`iso`) ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`events_log`
CREATE TABLE `ddl_shop_dst`.`events_log` (
  `id` int(11) NOT NULL,
  `created_on` date NOT NULL,
  `kind` varchar(20) NOT NULL,
  `payload` varchar(100) DEFAULT NULL,
  PRIMARY KEY (`id`,`created_on`),
  KEY `idx_expr` (`kind`,`created_on`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
 PARTITION BY RANGE (year(`created_on`))
SUBPARTITION BY HASH (`id`)
SUBPARTITIONS 2
(PARTITION `p2020` VALUES LESS THAN (2021) COMMENT = 'old, archived' ENGINE = InnoDB,
 PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)
-- object: table `ddl_shop`.`geo`
CREATE TABLE `ddl_shop_dst`.`geo` (
  `id` int(11) NOT NULL,
  `g` geometry NOT NULL,
  `pt` point DEFAULT NULL,
  `l` linestring DEFAULT NULL,
  `pg` polygon DEFAULT NULL,
  `mp` multipoint DEFAULT NULL,
  `ml` multilinestring DEFAULT NULL,
  `mpg` multipolygon DEFAULT NULL,
  `gc` geometrycollection DEFAULT NULL,
  PRIMARY KEY (`id`),
  SPATIAL KEY `sp_g` (`g`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`long_uniq`
CREATE TABLE `ddl_shop_dst`.`long_uniq` (
  `id` int(11) NOT NULL,
  `doc` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_doc` (`doc`) USING HASH,
  KEY `idx_ignored` (`id`,`doc`(10)) IGNORED
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`my-table`
CREATE TABLE `ddl_shop_dst`.`My Table` (
  `a``b``c` int(11) NOT NULL,
  `名` varchar(20) DEFAULT '名前',
  `MixedCase` int(11) DEFAULT NULL,
  `with space` int(11) DEFAULT NULL,
  `order_id` int(11) DEFAULT NULL,
  `order_placed` datetime DEFAULT NULL,
  PRIMARY KEY (`a``b``c`),
  KEY `idx-名前` (`名`),
  KEY `fk_my_order` (`order_id`,`order_placed`),
  CONSTRAINT `fk my order` FOREIGN KEY (`order_id`, `order_placed`) REFERENCES `ddl_shop_dst`.`orders` (`id`, `placed`) ON DELETE SET NULL ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`myisam_t`
CREATE TABLE `ddl_shop_dst`.`myisam_t` (
  `id` int(11) NOT NULL,
  `body` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  FULLTEXT KEY `ft_body` (`body`)
) ENGINE=MyISAM DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci CHECKSUM=1 DELAY_KEY_WRITE=1
-- object: table `ddl_shop`.`order`
CREATE TABLE `ddl_shop_dst`.`orders` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `customer_id` int(11) NOT NULL,
  `from` varchar(10) DEFAULT 'select',
  `amount` decimal(10,2) NOT NULL CHECK (`amount` >= 0),
  `qty` int(11) NOT NULL DEFAULT 1,
  `unit` decimal(10,2) GENERATED ALWAYS AS (`amount` / `qty`) VIRTUAL,
  `placed` datetime NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`id`,`placed`),
  KEY `idx_customer` (`customer_id`),
  KEY `idx_select` (`from`),
  CONSTRAINT `fk_order_customer` FOREIGN KEY (`customer_id`) REFERENCES `ddl_shop_dst`.`clients` (`id`) ON DELETE CASCADE,
  CONSTRAINT `order_qty` CHECK (`qty` > 0 and `amount` < 1000000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`名前`
CREATE TABLE `ddl_shop_dst`.`名前` (
  `列` int(11) NOT NULL,
  PRIMARY KEY (`列`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
-- object: sequence `ddl_shop`.`seq_ids`
-- error: table `ddl_shop`.`seq_ids`: is a SEQUENCE, which is not migrated
-- object: table `ddl_shop`.`versioned`
CREATE TABLE `ddl_shop_dst`.`versioned` (
  `id` int(11) NOT NULL,
  `price` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci WITH SYSTEM VERSIONING
-- object: table `ddl_shop`.`versioned_explicit`
CREATE TABLE `ddl_shop_dst`.`versioned_explicit` (
  `id` int(11) NOT NULL,
  `price` int(11) DEFAULT NULL,
  `row_start` timestamp(6) GENERATED ALWAYS AS ROW START INVISIBLE,
  `valid_to` timestamp(6) GENERATED ALWAYS AS ROW END INVISIBLE,
  PRIMARY KEY (`id`,`valid_to`),
  PERIOD FOR SYSTEM_TIME (`row_start`, `valid_to`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci WITH SYSTEM VERSIONING
-- object: view `ddl_shop`.`v_big_orders`
CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `ddl_shop_dst`.`v_big_orders` AS SELECT `v_order_list`.`order_id` AS `order_id`,`v_order_list`.`name` AS `name`,`v_order_list`.`total` AS `total` FROM `ddl_shop_dst`.`v_order_list` WHERE `v_order_list`.`total`>100
-- object: view `ddl_shop`.`v_customer_country`
CREATE ALGORITHM=MERGE SQL SECURITY INVOKER VIEW `ddl_shop_dst`.`v_customer_country` AS SELECT `c`.`id` AS `id`,`c`.`full_name` AS `name`,`k`.`name` AS `country_name` FROM `ddl_shop_dst`.`clients` AS `c` LEFT JOIN `ddl_ref_dst`.`nations` AS `k` ON (`k`.`iso`=`c`.`country`)
-- object: view `ddl_shop`.`v_geo`
CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `ddl_shop_dst`.`v_geo` AS SELECT `ddl_shop_dst`.`geo`.`id` AS `id`,ST_ASTEXT(`ddl_shop_dst`.`geo`.`pt`) AS `p_text` FROM `ddl_shop_dst`.`geo`
-- object: view `ddl_shop`.`v_orders`
CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `ddl_shop_dst`.`v_order_list` AS SELECT `o`.`id` AS `order_id`,`c`.`full_name` AS `name`,`c`.`email` AS `email`,`o`.`amount` AS `total`,`o`.`from` AS `select` FROM `ddl_shop_dst`.`orders` AS `o` JOIN `ddl_shop_dst`.`clients` AS `c` ON (`c`.`id`=`o`.`customer_id`) WHERE `o`.`amount`>0
-- object: view `ddl_shop`.`v_single`
CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `ddl_shop_dst`.`v_single` AS SELECT `ddl_shop_dst`.`clients`.`id` AS `id`,`ddl_shop_dst`.`clients`.`full_name` AS `name`,`ddl_shop_dst`.`clients`.`email` AS `email` FROM `ddl_shop_dst`.`clients` WHERE `ddl_shop_dst`.`clients`.`full_name`!='x, y' WITH CASCADED CHECK OPTION
-- object: view `ddl_shop`.`v_weird`
CREATE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `ddl_shop_dst`.`v_weird` AS SELECT `t`.`a``b``c` AS `a``b`,`t`.`名` AS `n`,`m`.`col_name` AS `ColName` FROM `ddl_shop_dst`.`My Table` AS `t` JOIN `ddl_shop_dst`.`MixedCase` AS `m` WHERE `t`.`MixedCase`=`m`.`Id`
-- object: function `ddl_shop`.`order_total`
CREATE FUNCTION `ddl_shop_dst`.`order_total`(p_customer INT) RETURNS decimal(12,2)
    SQL SECURITY INVOKER
    READS SQL DATA
    DETERMINISTIC
BEGIN
  DECLARE v DECIMAL(12,2);
  SELECT COALESCE(SUM(o.`amount`), 0) INTO v FROM `orders` AS o JOIN `clients` c ON c.id = o.customer_id WHERE c.id = p_customer;
  RETURN v;
END
-- object: function `ddl_shop`.`plain_fn`
CREATE FUNCTION `ddl_shop_dst`.`plain_fn`(x INT) RETURNS int(11)
    SQL SECURITY INVOKER
    NO SQL
    DETERMINISTIC
RETURN x * 2
-- object: procedure `ddl_shop`.`add_order`
-- warning: procedure `ddl_shop`.`add_order`: mentions `name`, which `ddl_shop`.`customers` renames to `full_name`; unqualified column names in bodies are not rewritten
-- warning: procedure `ddl_shop`.`add_order`: mentions `notes`, an excluded column of `ddl_shop`.`customers`; unqualified column names in bodies are not rewritten
CREATE PROCEDURE `ddl_shop_dst`.`add_order`(IN p_customer INT, IN p_total DECIMAL(10,2), OUT p_id INT)
    SQL SECURITY INVOKER
    MODIFIES SQL DATA
    COMMENT 'adds an order; uses `order`'
BEGIN
  -- a comment mentioning `customers` and FROM order
  DECLARE v_name VARCHAR(100) DEFAULT 'FROM customers';
  SELECT `name` INTO v_name FROM `clients` WHERE id = p_customer;
  INSERT INTO `orders` (customer_id, `amount`, `from`) VALUES (p_customer, p_total, 'x;y');
  SET p_id = LAST_INSERT_ID();
  UPDATE `ddl_shop_dst`.`clients` SET notes = /* inline, FROM `order` */ 'ordered' WHERE id = p_customer;
  INSERT INTO `ddl_ref_dst`.`nations` (`iso`, name) SELECT 'zz', v_name FROM DUAL WHERE 0;
END
-- object: trigger `ddl_shop`.`trg_customers_au`
CREATE TRIGGER `ddl_shop_dst`.`trg_customers_au` AFTER UPDATE ON `ddl_shop_dst`.`clients` FOR EACH ROW
  INSERT INTO `ddl_shop_dst`.`My Table` (`a``b``c`, `名`) VALUES (OLD.id + 1000000, NEW.`full_name`)
-- object: trigger `ddl_shop`.`trg_order_bi`
-- warning: trigger `ddl_shop`.`trg_order_bi`: mentions `notes`, an excluded column of `ddl_shop`.`customers`; unqualified column names in bodies are not rewritten
CREATE TRIGGER `ddl_shop_dst`.`trg_order_bi` BEFORE INSERT ON `ddl_shop_dst`.`orders` FOR EACH ROW
BEGIN
  IF NEW.`amount` < 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'negative total; NEW.total';
  END IF;
  SET NEW.`from` = COALESCE(NEW.`from`, 'dflt');
  UPDATE `clients` SET notes = CONCAT('last order ', NEW.`amount`) WHERE `clients`.id = NEW.customer_id;
END
-- object: table `ddl_ref`.`country`
CREATE TABLE `ddl_ref_dst`.`nations` (
  `iso` char(2) NOT NULL,
  `name` varchar(100) NOT NULL,
  PRIMARY KEY (`iso`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci
