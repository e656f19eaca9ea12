-- The settings store ops set in the console, as the hub last sent them (JSON,
-- `RemoteSettings`): applied without a restart.
ALTER TABLE hub_settings ADD COLUMN remote TEXT;
