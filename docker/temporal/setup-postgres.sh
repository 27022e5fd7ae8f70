#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas to the version the
# admin-tools image embeds. Every step is idempotent, so it runs on each `compose up`.
# temporal-sql-tool reads SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD and SQL_PLUGIN from the environment.
set -eu

for i in $(seq 1 60); do
	nc -z "$SQL_HOST" "$SQL_PORT" && break
	echo "waiting for $SQL_HOST:$SQL_PORT ($i)"
	sleep 1
done

for db in temporal temporal_visibility; do
	case $db in
	temporal) schema=postgresql/v12/temporal ;;
	*) schema=postgresql/v12/visibility ;;
	esac
	temporal-sql-tool --db "$db" create-database
	temporal-sql-tool --db "$db" setup-schema -v 0.0
	temporal-sql-tool --db "$db" update-schema --schema-name "$schema"
done
echo "temporal schemas are up to date"
