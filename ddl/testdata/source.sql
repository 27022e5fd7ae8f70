-- object: table `ddl_shop`.`MixedCase`
CREATE TABLE `MixedCase` (
  `Id` int(11) NOT NULL,
  `ColName` int(11) DEFAULT NULL,
  PRIMARY KEY (`Id`),
  KEY `IdxCol` (`ColName`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`a``b`
CREATE TABLE `a``b` (
  `id` int(11) NOT NULL,
  `v` varchar(10) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`all_types`
CREATE TABLE `all_types` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `ti` tinyint(3) unsigned zerofill DEFAULT NULL,
  `si` smallint(6) NOT NULL DEFAULT -5,
  `mi` mediumint(8) unsigned DEFAULT 7,
  `i` int(11) DEFAULT NULL COMMENT 'an int, with a comma',
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
  `vc` varchar(255) DEFAULT 'it''s, "quoted" `tick`',
  `vc_bin` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  `tt` tinytext DEFAULT NULL,
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
  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),
  `hidden` int(11) INVISIBLE DEFAULT 42,
  `uuid_col` uuid DEFAULT NULL,
  `inet` inet6 DEFAULT NULL,
  `gen_v` int(11) GENERATED ALWAYS AS (`i` * 2) VIRTUAL,
  `gen_s` varchar(300) GENERATED ALWAYS AS (concat(`vc`,'-',`vc_bin`)) STORED,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_vc` (`vc`(100),`c`),
  KEY `idx_gen` (`gen_s`(50)),
  KEY `idx_dtm` (`dtm` DESC,`ts`) COMMENT 'index comment, with comma',
  CONSTRAINT `chk_si` CHECK (`si` > -100 and `si` < 1000)
) ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC COMMENT='all the types, (really)'
-- object: table `ddl_shop`.`app_period`
CREATE TABLE `app_period` (
  `id` int(11) NOT NULL,
  `date_from` date NOT NULL,
  `date_to` date NOT NULL,
  PERIOD FOR `valid` (`date_from`, `date_to`),
  PRIMARY KEY (`id`,`valid` WITHOUT OVERLAPS)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`by_list`
CREATE TABLE `by_list` (
  `id` int(11) NOT NULL,
  `region` varchar(10) NOT NULL,
  PRIMARY KEY (`id`,`region`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
 PARTITION BY LIST  COLUMNS(`region`)
(PARTITION `p_eu` VALUES IN ('de','fr') ENGINE = InnoDB,
 PARTITION `p_us` VALUES IN ('us','ca') ENGINE = InnoDB)
-- object: table `ddl_shop`.`customers`
CREATE TABLE `customers` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(100) NOT NULL,
  `email` varchar(200) DEFAULT NULL,
  `country` char(2) CHARACTER SET latin1 COLLATE latin1_swedish_ci DEFAULT NULL,
  `bio` text DEFAULT NULL,
  `notes` varchar(50) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_email` (`email`),
  KEY `idx_name_country` (`name`(20),`country`),
  KEY `fk_country` (`country`),
  FULLTEXT KEY `ft_bio` (`bio`,`name`),
  CONSTRAINT `fk_country` FOREIGN KEY (`country`) REFERENCES `ddl_ref`.`country` (`code`) ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`events_log`
CREATE TABLE `events_log` (
  `id` int(11) NOT NULL,
  `created` date NOT NULL,
  `kind` varchar(20) NOT NULL,
  `payload` varchar(100) DEFAULT NULL,
  PRIMARY KEY (`id`,`created`),
  KEY `idx_expr` (`kind`,`created`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
 PARTITION BY RANGE (year(`created`))
SUBPARTITION BY HASH (`id`)
SUBPARTITIONS 2
(PARTITION `p2020` VALUES LESS THAN (2021) COMMENT = 'old, archived' ENGINE = InnoDB,
 PARTITION `pmax` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)
-- object: table `ddl_shop`.`geo`
CREATE TABLE `geo` (
  `id` int(11) NOT NULL,
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`long_uniq`
CREATE TABLE `long_uniq` (
  `id` int(11) NOT NULL,
  `doc` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_doc` (`doc`) USING HASH,
  KEY `idx_ignored` (`id`,`doc`(10)) IGNORED
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`my-table`
CREATE TABLE `my-table` (
  `a``b` int(11) NOT NULL,
  `名前` varchar(20) DEFAULT '名前',
  `MixedCase` int(11) DEFAULT NULL,
  `with space` int(11) DEFAULT NULL,
  `order_id` int(11) DEFAULT NULL,
  `order_placed` datetime DEFAULT NULL,
  PRIMARY KEY (`a``b`),
  KEY `idx-名前` (`名前`),
  KEY `fk_my_order` (`order_id`,`order_placed`),
  CONSTRAINT `fk my order` FOREIGN KEY (`order_id`, `order_placed`) REFERENCES `order` (`id`, `placed`) ON DELETE SET NULL ON UPDATE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`myisam_t`
CREATE TABLE `myisam_t` (
  `id` int(11) NOT NULL,
  `body` text DEFAULT NULL,
  PRIMARY KEY (`id`),
  FULLTEXT KEY `ft_body` (`body`)
) ENGINE=MyISAM DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci CHECKSUM=1 DELAY_KEY_WRITE=1
-- object: table `ddl_shop`.`order`
CREATE TABLE `order` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `customer_id` int(11) NOT NULL,
  `select` varchar(10) DEFAULT 'select',
  `total` decimal(10,2) NOT NULL CHECK (`total` >= 0),
  `qty` int(11) NOT NULL DEFAULT 1,
  `unit` decimal(10,2) GENERATED ALWAYS AS (`total` / `qty`) VIRTUAL,
  `placed` datetime NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`id`,`placed`),
  KEY `idx_customer` (`customer_id`),
  KEY `idx_select` (`select`),
  CONSTRAINT `fk_order_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE,
  CONSTRAINT `order_qty` CHECK (`qty` > 0 and `total` < 1000000)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
-- object: table `ddl_shop`.`名前`
CREATE TABLE `名前` (
  `列` int(11) NOT NULL,
  PRIMARY KEY (`列`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
-- object: sequence `ddl_shop`.`seq_ids`
CREATE SEQUENCE `seq_ids` start with 100 minvalue 1 maxvalue 9223372036854775806 increment by 5 cache 1000 nocycle ENGINE=InnoDB
-- object: table `ddl_shop`.`versioned`
CREATE TABLE `versioned` (
  `id` int(11) NOT NULL,
  `price` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci WITH SYSTEM VERSIONING
-- object: table `ddl_shop`.`versioned_explicit`
CREATE TABLE `versioned_explicit` (
  `id` int(11) NOT NULL,
  `price` int(11) DEFAULT NULL,
  `row_start` timestamp(6) GENERATED ALWAYS AS ROW START INVISIBLE,
  `row_end` timestamp(6) GENERATED ALWAYS AS ROW END INVISIBLE,
  PRIMARY KEY (`id`,`row_end`),
  PERIOD FOR SYSTEM_TIME (`row_start`, `row_end`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci WITH SYSTEM VERSIONING
-- object: view `ddl_shop`.`v_big_orders`
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `ddl_shop`.`v_big_orders` AS select `v_orders`.`order_id` AS `order_id`,`v_orders`.`name` AS `name`,`v_orders`.`total` AS `total` from `ddl_shop`.`v_orders` where `v_orders`.`total` > 100
-- object: view `ddl_shop`.`v_customer_country`
CREATE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY INVOKER VIEW `ddl_shop`.`v_customer_country` AS select `c`.`id` AS `id`,`c`.`name` AS `name`,`k`.`name` AS `country_name` from (`ddl_shop`.`customers` `c` left join `ddl_ref`.`country` `k` on(`k`.`code` = `c`.`country`))
-- object: view `ddl_shop`.`v_geo`
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `ddl_shop`.`v_geo` AS select `ddl_shop`.`geo`.`id` AS `id`,st_astext(`ddl_shop`.`geo`.`p`) AS `p_text` from `ddl_shop`.`geo`
-- object: view `ddl_shop`.`v_orders`
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `ddl_shop`.`v_orders` AS select `o`.`id` AS `order_id`,`c`.`name` AS `name`,`c`.`email` AS `email`,`o`.`total` AS `total`,`o`.`select` AS `select` from (`ddl_shop`.`order` `o` join `ddl_shop`.`customers` `c` on(`c`.`id` = `o`.`customer_id`)) where `o`.`total` > 0
-- object: view `ddl_shop`.`v_single`
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `ddl_shop`.`v_single` AS select `ddl_shop`.`customers`.`id` AS `id`,`ddl_shop`.`customers`.`name` AS `name`,`ddl_shop`.`customers`.`email` AS `email` from `ddl_shop`.`customers` where `ddl_shop`.`customers`.`name` <> 'x, y' WITH CASCADED CHECK OPTION
-- object: view `ddl_shop`.`v_weird`
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `ddl_shop`.`v_weird` AS select `t`.`a``b` AS `a``b`,`t`.`名前` AS `n`,`m`.`ColName` AS `ColName` from (`ddl_shop`.`my-table` `t` join `ddl_shop`.`MixedCase` `m`) where `t`.`MixedCase` = `m`.`Id`
-- object: function `ddl_shop`.`order_total`
CREATE DEFINER=`root`@`localhost` FUNCTION `order_total`(p_customer INT) RETURNS decimal(12,2)
    READS SQL DATA
    DETERMINISTIC
BEGIN
  DECLARE v DECIMAL(12,2);
  SELECT COALESCE(SUM(o.total), 0) INTO v FROM `order` AS o JOIN customers c ON c.id = o.customer_id WHERE c.id = p_customer;
  RETURN v;
END
-- object: function `ddl_shop`.`plain_fn`
CREATE DEFINER=`root`@`localhost` FUNCTION `plain_fn`(x INT) RETURNS int(11)
    NO SQL
    DETERMINISTIC
RETURN x * 2
-- object: procedure `ddl_shop`.`add_order`
CREATE DEFINER=`root`@`localhost` PROCEDURE `add_order`(IN p_customer INT, IN p_total DECIMAL(10,2), OUT p_id INT)
    MODIFIES SQL DATA
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
-- object: trigger `ddl_shop`.`trg_customers_au`
CREATE DEFINER=`root`@`localhost` TRIGGER `ddl_shop`.`trg_customers_au` AFTER UPDATE ON `ddl_shop`.`customers` FOR EACH ROW
  INSERT INTO `ddl_shop`.`my-table` (`a``b`, `名前`) VALUES (OLD.id + 1000000, NEW.name)
-- object: trigger `ddl_shop`.`trg_order_bi`
CREATE DEFINER=`root`@`localhost` TRIGGER `ddl_shop`.`trg_order_bi` BEFORE INSERT ON `order` FOR EACH ROW
BEGIN
  IF NEW.total < 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'negative total; NEW.total';
  END IF;
  SET NEW.`select` = COALESCE(NEW.`select`, 'dflt');
  UPDATE customers SET notes = CONCAT('last order ', NEW.total) WHERE customers.id = NEW.customer_id;
END
-- object: table `ddl_ref`.`country`
CREATE TABLE `country` (
  `code` char(2) NOT NULL,
  `name` varchar(100) NOT NULL,
  PRIMARY KEY (`code`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci
