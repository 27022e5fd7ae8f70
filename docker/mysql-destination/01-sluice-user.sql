-- Runs once, when the destination's data directory is first initialised. The image's
-- entrypoint has already created MYSQL_USER ('sluice') with MYSQL_PASSWORD (from
-- DST_PASSWORD), so no secret is written here.
-- Destination privileges (docs/precheck.md): create databases and every kind of
-- object the schema phase copies, and write rows.
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES,
      CREATE VIEW, SHOW VIEW, TRIGGER, CREATE ROUTINE, ALTER ROUTINE, EXECUTE, EVENT,
      CREATE TEMPORARY TABLES, LOCK TABLES
  ON *.* TO 'sluice'@'%';
-- Only for `options.accounts: true` (copying users and grants):
-- GRANT CREATE USER ON *.* TO 'sluice'@'%' WITH GRANT OPTION;
