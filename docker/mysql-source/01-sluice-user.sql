-- Runs once, when the source's data directory is first initialised. The image's
-- entrypoint has already created MYSQL_USER ('sluice') with MYSQL_PASSWORD (from
-- SRC_PASSWORD), so no secret is written here.
-- These are the source privileges the precheck asks for (docs/precheck.md): read the
-- data and view definitions, and read the binary log as a replica would.
GRANT SELECT, SHOW VIEW, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'sluice'@'%';
