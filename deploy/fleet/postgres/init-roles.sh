#!/bin/sh
# Run by the postgres image once, when it creates the database (/docker-entrypoint-initdb.d/).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$OWNER_PASSWORD" -v node_password="$NODE_PASSWORD" -v hub_password="$HUB_PASSWORD" \
  -f /gpu-sentinel/roles.sql
