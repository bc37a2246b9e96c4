-- The fleet's PostgreSQL roles, made once in the fleet's database by a superuser, before any table exists:
--   psql -v owner_password=... -v node_password=... -v hub_password=... -f roles.sql
-- The owner creates and upgrades the tables (`gpu-sentinel migrate`); nodes and hubs only use them, with
-- the rights grants.sql gives once the tables exist. Add a login per node the same way.
\set ON_ERROR_STOP on

CREATE ROLE gpu_sentinel_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE gpu_sentinel_node NOLOGIN;
CREATE ROLE gpu_sentinel_hub NOLOGIN;

-- One login per node: row-level security lets each write only its own live-state row.
CREATE ROLE node_gpu01 LOGIN PASSWORD :'node_password' IN ROLE gpu_sentinel_node;
CREATE ROLE node_gpu02 LOGIN PASSWORD :'node_password' IN ROLE gpu_sentinel_node;
CREATE ROLE node_gpu03 LOGIN PASSWORD :'node_password' IN ROLE gpu_sentinel_node;
-- A hub is a node too (its own heartbeat, history and alerts), so it is in both groups.
CREATE ROLE hub01 LOGIN PASSWORD :'hub_password' IN ROLE gpu_sentinel_hub, gpu_sentinel_node;

-- Only the owner creates objects; nobody else may even connect.
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"DBNAME" TO gpu_sentinel_owner;
GRANT CONNECT ON DATABASE :"DBNAME" TO gpu_sentinel_node, gpu_sentinel_hub;
ALTER SCHEMA public OWNER TO gpu_sentinel_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
