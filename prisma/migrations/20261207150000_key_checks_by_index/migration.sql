-- The statement-level key checks (20261207030000_statement_key_checks) look
-- the named rows up by their keys. Left to itself the planner joined a
-- statement's rows to the named table with a hash join over a scan of the
-- whole table once that table was large enough for index probes to look
-- dear: the ledger entries' check read every order and every event twice per
-- statement, so an import got slower with every row the log already held.
-- Importing the 30,000-line bench stream five times into one database took
-- the database 4.1, 4.3, 5.3, 7.2 and 9.6 s of CPU; pg_stat_user_tables
-- showed two sequential scans of orders and of events per statement. With
-- hash and merge joins off inside the check functions, each named key is an
-- index probe (a nested loop), and the time stays flat as the tables grow.
ALTER FUNCTION "events_check_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "events_check_keys"() SET enable_mergejoin = off;
ALTER FUNCTION "orders_check_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "orders_check_keys"() SET enable_mergejoin = off;
ALTER FUNCTION "ledger_entries_check_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "ledger_entries_check_keys"() SET enable_mergejoin = off;
ALTER FUNCTION "notifications_check_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "notifications_check_keys"() SET enable_mergejoin = off;
-- The checks of a removed key probe the naming tables the same way.
ALTER FUNCTION "merchants_check_removed_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "merchants_check_removed_keys"() SET enable_mergejoin = off;
ALTER FUNCTION "members_check_removed_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "members_check_removed_keys"() SET enable_mergejoin = off;
ALTER FUNCTION "program_versions_check_removed_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "program_versions_check_removed_keys"() SET enable_mergejoin = off;
ALTER FUNCTION "orders_check_removed_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "orders_check_removed_keys"() SET enable_mergejoin = off;
ALTER FUNCTION "events_check_removed_keys"() SET enable_hashjoin = off;
ALTER FUNCTION "events_check_removed_keys"() SET enable_mergejoin = off;
