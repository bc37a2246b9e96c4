-- fleet roles: run as the owner of the schema, after `gpu-sentinel migrate` (again after an upgrade)
GRANT USAGE ON SCHEMA public TO gpu_sentinel_node, gpu_sentinel_hub;
-- history and alerts: nodes write their own, hubs read everything and record fleet alerts
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gpu_sentinel_node;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO gpu_sentinel_hub;
GRANT INSERT, UPDATE, DELETE ON alert_transitions, alert_outbox, alert_instances TO gpu_sentinel_hub;
-- the schema versions are the owner's alone to change
REVOKE INSERT, UPDATE, DELETE ON schema_version, alerts_schema_version FROM gpu_sentinel_node;
-- live state: each node its own row, every hub all rows
REVOKE ALL ON node_live FROM gpu_sentinel_node, gpu_sentinel_hub;
GRANT SELECT, INSERT, UPDATE ON node_live TO gpu_sentinel_node;
GRANT SELECT ON node_live TO gpu_sentinel_hub;
ALTER TABLE node_live ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS node_live_read ON node_live;
DROP POLICY IF EXISTS node_live_insert ON node_live;
DROP POLICY IF EXISTS node_live_update ON node_live;
CREATE POLICY node_live_read ON node_live FOR SELECT USING (true);
CREATE POLICY node_live_insert ON node_live FOR INSERT TO gpu_sentinel_node
  WITH CHECK (owner_role = current_user);
CREATE POLICY node_live_update ON node_live FOR UPDATE TO gpu_sentinel_node
  USING (owner_role = current_user) WITH CHECK (owner_role = current_user);
