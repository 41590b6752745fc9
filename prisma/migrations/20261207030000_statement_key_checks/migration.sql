-- The foreign keys of the four tables an import batch fills by the thousand
-- (events, orders, ledger_entries, notifications) are checked once per
-- statement instead of once per row and key. PostgreSQL checks a foreign key
-- with one lookup (and one row lock) per inserted row; in EXPLAIN ANALYZE of
-- an 8,000-line import batch those checks were about half of the statement's
-- execution (~400 of ~800 ms on PostgreSQL, ~2.8 of 6.4 s for 30,000 lines on
-- PGlite; bench/README.md, "Import"). Here an AFTER ... FOR EACH STATEMENT
-- trigger over the statement's transition table checks each key with one
-- anti-join for all the rows.
--
-- Integrity is the foreign keys', with one difference: what the foreign keys
-- cascaded (deleting a merchant or member, updating a key) is refused. The
-- application never deletes these rows nor changes their keys.
--
-- * Inserting or updating a row of the four tables: each key must name an
--   existing row (a merchant; a member of the row's merchant; a program
--   version; an order and an event where not null). The trigger first locks
--   the named rows FOR KEY SHARE, as a foreign key does, so a concurrent
--   delete either waits for this transaction or, having committed first, is
--   seen as a missing row; then it checks with a fresh snapshot. Rows this
--   transaction inserted itself are not locked (no other transaction can see
--   them, let alone delete them): that is most of them in a batch (its
--   orders, events and new members), and the lock is a write to the row.
-- * Deleting or changing the key of a referenced row (merchants, members,
--   program_versions, orders, events) is refused when a row of the four
--   tables still names it, checked after the statement with a fresh snapshot
--   (under READ COMMITTED a concurrent insert has either committed, and is
--   seen, or waits on the lock above and then finds the row gone). Under
--   REPEATABLE READ or SERIALIZABLE the snapshot is the transaction's and
--   could miss such an insert, so there the delete or key change is refused
--   outright.
-- * TRUNCATE of a referenced table is refused while any row of the tables
--   that name it exists (even when they are truncated together).
--
-- Errors are foreign_key_violation (23503) and name the constraint as before.

ALTER TABLE "events" DROP CONSTRAINT "events_merchant_id_fkey", DROP CONSTRAINT "events_program_version_id_fkey";
ALTER TABLE "orders" DROP CONSTRAINT "orders_merchant_id_member_id_fkey";
ALTER TABLE "ledger_entries"
    DROP CONSTRAINT "ledger_entries_merchant_id_member_id_fkey",
    DROP CONSTRAINT "ledger_entries_program_version_id_fkey",
    DROP CONSTRAINT "ledger_entries_order_id_fkey",
    DROP CONSTRAINT "ledger_entries_event_seq_fkey";
ALTER TABLE "notifications" DROP CONSTRAINT "notifications_merchant_id_fkey";

CREATE FUNCTION "loyalty_key_missing"(tbl text, name text, detail text) RETURNS void AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', tbl, name
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = name, TABLE = tbl, DETAIL = detail;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION "loyalty_key_in_use"(tbl text, name text, detail text) RETURNS void AS $$
BEGIN
    RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%"', tbl, name
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = name, TABLE = tbl, DETAIL = detail;
END
$$ LANGUAGE plpgsql;

-- ---------------------------------------------------------------- the rows that name keys

CREATE FUNCTION "events_check_keys"() RETURNS trigger AS $$
DECLARE
    mine xid := pg_current_xact_id()::xid;
    missing text;
BEGIN
    PERFORM 1 FROM "merchants" p WHERE p.id IN (SELECT merchant_id FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT k.merchant_id::text INTO missing FROM (SELECT DISTINCT merchant_id FROM new_rows) k
     WHERE NOT EXISTS (SELECT 1 FROM "merchants" p WHERE p.id = k.merchant_id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('events', 'events_merchant_id_fkey', format('Key (merchant_id)=(%s) is not present in table "merchants".', missing));
    END IF;
    PERFORM 1 FROM "program_versions" p WHERE p.id IN (SELECT program_version_id FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT k.program_version_id::text INTO missing FROM (SELECT DISTINCT program_version_id FROM new_rows) k
     WHERE NOT EXISTS (SELECT 1 FROM "program_versions" p WHERE p.id = k.program_version_id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('events', 'events_program_version_id_fkey', format('Key (program_version_id)=(%s) is not present in table "program_versions".', missing));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "events_check_keys_insert" AFTER INSERT ON "events"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "events_check_keys"();
CREATE TRIGGER "events_check_keys_update" AFTER UPDATE ON "events"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "events_check_keys"();

CREATE FUNCTION "orders_check_keys"() RETURNS trigger AS $$
DECLARE
    mine xid := pg_current_xact_id()::xid;
    missing text;
BEGIN
    PERFORM 1 FROM "members" p WHERE (p.merchant_id, p.id) IN (SELECT merchant_id, member_id FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT format('(%s, %s)', k.merchant_id, k.member_id) INTO missing FROM (SELECT DISTINCT merchant_id, member_id FROM new_rows) k
     WHERE NOT EXISTS (SELECT 1 FROM "members" p WHERE p.merchant_id = k.merchant_id AND p.id = k.member_id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('orders', 'orders_merchant_id_member_id_fkey', format('Key (merchant_id, member_id)=%s is not present in table "members".', missing));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "orders_check_keys_insert" AFTER INSERT ON "orders"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "orders_check_keys"();
CREATE TRIGGER "orders_check_keys_update" AFTER UPDATE ON "orders"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "orders_check_keys"();

CREATE FUNCTION "ledger_entries_check_keys"() RETURNS trigger AS $$
DECLARE
    mine xid := pg_current_xact_id()::xid;
    missing text;
BEGIN
    PERFORM 1 FROM "members" p WHERE (p.merchant_id, p.id) IN (SELECT merchant_id, member_id FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT format('(%s, %s)', k.merchant_id, k.member_id) INTO missing FROM (SELECT DISTINCT merchant_id, member_id FROM new_rows) k
     WHERE NOT EXISTS (SELECT 1 FROM "members" p WHERE p.merchant_id = k.merchant_id AND p.id = k.member_id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('ledger_entries', 'ledger_entries_merchant_id_member_id_fkey', format('Key (merchant_id, member_id)=%s is not present in table "members".', missing));
    END IF;
    PERFORM 1 FROM "program_versions" p WHERE p.id IN (SELECT program_version_id FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT k.program_version_id::text INTO missing FROM (SELECT DISTINCT program_version_id FROM new_rows) k
     WHERE NOT EXISTS (SELECT 1 FROM "program_versions" p WHERE p.id = k.program_version_id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('ledger_entries', 'ledger_entries_program_version_id_fkey', format('Key (program_version_id)=(%s) is not present in table "program_versions".', missing));
    END IF;
    PERFORM 1 FROM "orders" p WHERE p.id IN (SELECT order_id FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT k.order_id::text INTO missing FROM (SELECT DISTINCT order_id FROM new_rows WHERE order_id IS NOT NULL) k
     WHERE NOT EXISTS (SELECT 1 FROM "orders" p WHERE p.id = k.order_id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('ledger_entries', 'ledger_entries_order_id_fkey', format('Key (order_id)=(%s) is not present in table "orders".', missing));
    END IF;
    PERFORM 1 FROM "events" p WHERE p.seq IN (SELECT event_seq FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT k.event_seq::text INTO missing FROM (SELECT DISTINCT event_seq FROM new_rows WHERE event_seq IS NOT NULL) k
     WHERE NOT EXISTS (SELECT 1 FROM "events" p WHERE p.seq = k.event_seq) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('ledger_entries', 'ledger_entries_event_seq_fkey', format('Key (event_seq)=(%s) is not present in table "events".', missing));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "ledger_entries_check_keys_insert" AFTER INSERT ON "ledger_entries"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "ledger_entries_check_keys"();
CREATE TRIGGER "ledger_entries_check_keys_update" AFTER UPDATE ON "ledger_entries"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "ledger_entries_check_keys"();

CREATE FUNCTION "notifications_check_keys"() RETURNS trigger AS $$
DECLARE
    mine xid := pg_current_xact_id()::xid;
    missing text;
BEGIN
    PERFORM 1 FROM "merchants" p WHERE p.id IN (SELECT merchant_id FROM new_rows) AND p.xmin <> mine FOR KEY SHARE OF p;
    SELECT k.merchant_id::text INTO missing FROM (SELECT DISTINCT merchant_id FROM new_rows) k
     WHERE NOT EXISTS (SELECT 1 FROM "merchants" p WHERE p.id = k.merchant_id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_missing('notifications', 'notifications_merchant_id_fkey', format('Key (merchant_id)=(%s) is not present in table "merchants".', missing));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "notifications_check_keys_insert" AFTER INSERT ON "notifications"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_check_keys"();
CREATE TRIGGER "notifications_check_keys_update" AFTER UPDATE ON "notifications"
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "notifications_check_keys"();

-- ---------------------------------------------------------------- the rows named

-- Whether the statement may remove keys at all (see above): not under a transaction snapshot.
CREATE FUNCTION "loyalty_key_removal_checkable"(tbl text) RETURNS void AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'deleting a row of "%" or changing its key is refused under % isolation (rows elsewhere may name it)', tbl, current_setting('transaction_isolation')
            USING ERRCODE = 'foreign_key_violation', TABLE = tbl;
    END IF;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION "merchants_check_removed_keys"() RETURNS trigger AS $$
DECLARE
    removed uuid[];
    gone text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(id) INTO removed FROM old_rows;
    ELSE
        SELECT array_agg(id) INTO removed FROM (SELECT id FROM old_rows EXCEPT SELECT id FROM new_rows) k;
    END IF;
    IF removed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM loyalty_key_removal_checkable('merchants');
    SELECT r.merchant_id::text INTO gone FROM "events" r WHERE r.merchant_id = ANY(removed) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('merchants', 'events_merchant_id_fkey', format('Key (id)=(%s) is still referenced from table "events".', gone));
    END IF;
    SELECT r.merchant_id::text INTO gone FROM "notifications" r WHERE r.merchant_id = ANY(removed) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('merchants', 'notifications_merchant_id_fkey', format('Key (id)=(%s) is still referenced from table "notifications".', gone));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "merchants_check_removed_keys_delete" AFTER DELETE ON "merchants"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "merchants_check_removed_keys"();
CREATE TRIGGER "merchants_check_removed_keys_update" AFTER UPDATE ON "merchants"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "merchants_check_removed_keys"();

CREATE FUNCTION "members_check_removed_keys"() RETURNS trigger AS $$
DECLARE
    merchants uuid[];
    ids uuid[];
    gone text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(merchant_id), array_agg(id) INTO merchants, ids FROM old_rows;
    ELSE
        SELECT array_agg(merchant_id), array_agg(id) INTO merchants, ids FROM (SELECT merchant_id, id FROM old_rows EXCEPT SELECT merchant_id, id FROM new_rows) k;
    END IF;
    IF ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM loyalty_key_removal_checkable('members');
    SELECT format('(%s, %s)', k.merchant_id, k.id) INTO gone FROM unnest(merchants, ids) AS k(merchant_id, id)
     WHERE EXISTS (SELECT 1 FROM "orders" r WHERE r.merchant_id = k.merchant_id AND r.member_id = k.id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('members', 'orders_merchant_id_member_id_fkey', format('Key (merchant_id, id)=%s is still referenced from table "orders".', gone));
    END IF;
    SELECT format('(%s, %s)', k.merchant_id, k.id) INTO gone FROM unnest(merchants, ids) AS k(merchant_id, id)
     WHERE EXISTS (SELECT 1 FROM "ledger_entries" r WHERE r.merchant_id = k.merchant_id AND r.member_id = k.id) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('members', 'ledger_entries_merchant_id_member_id_fkey', format('Key (merchant_id, id)=%s is still referenced from table "ledger_entries".', gone));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "members_check_removed_keys_delete" AFTER DELETE ON "members"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "members_check_removed_keys"();
CREATE TRIGGER "members_check_removed_keys_update" AFTER UPDATE ON "members"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "members_check_removed_keys"();

CREATE FUNCTION "program_versions_check_removed_keys"() RETURNS trigger AS $$
DECLARE
    removed uuid[];
    gone text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(id) INTO removed FROM old_rows;
    ELSE
        SELECT array_agg(id) INTO removed FROM (SELECT id FROM old_rows EXCEPT SELECT id FROM new_rows) k;
    END IF;
    IF removed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM loyalty_key_removal_checkable('program_versions');
    SELECT r.program_version_id::text INTO gone FROM "events" r WHERE r.program_version_id = ANY(removed) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('program_versions', 'events_program_version_id_fkey', format('Key (id)=(%s) is still referenced from table "events".', gone));
    END IF;
    SELECT r.program_version_id::text INTO gone FROM "ledger_entries" r WHERE r.program_version_id = ANY(removed) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('program_versions', 'ledger_entries_program_version_id_fkey', format('Key (id)=(%s) is still referenced from table "ledger_entries".', gone));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "program_versions_check_removed_keys_delete" AFTER DELETE ON "program_versions"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "program_versions_check_removed_keys"();
CREATE TRIGGER "program_versions_check_removed_keys_update" AFTER UPDATE ON "program_versions"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "program_versions_check_removed_keys"();

CREATE FUNCTION "orders_check_removed_keys"() RETURNS trigger AS $$
DECLARE
    removed uuid[];
    gone text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(id) INTO removed FROM old_rows;
    ELSE
        SELECT array_agg(id) INTO removed FROM (SELECT id FROM old_rows EXCEPT SELECT id FROM new_rows) k;
    END IF;
    IF removed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM loyalty_key_removal_checkable('orders');
    SELECT r.order_id::text INTO gone FROM "ledger_entries" r WHERE r.order_id = ANY(removed) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('orders', 'ledger_entries_order_id_fkey', format('Key (id)=(%s) is still referenced from table "ledger_entries".', gone));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "orders_check_removed_keys_delete" AFTER DELETE ON "orders"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "orders_check_removed_keys"();
CREATE TRIGGER "orders_check_removed_keys_update" AFTER UPDATE ON "orders"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "orders_check_removed_keys"();

CREATE FUNCTION "events_check_removed_keys"() RETURNS trigger AS $$
DECLARE
    removed bigint[];
    gone text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(seq) INTO removed FROM old_rows;
    ELSE
        SELECT array_agg(seq) INTO removed FROM (SELECT seq FROM old_rows EXCEPT SELECT seq FROM new_rows) k;
    END IF;
    IF removed IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM loyalty_key_removal_checkable('events');
    SELECT r.event_seq::text INTO gone FROM "ledger_entries" r WHERE r.event_seq = ANY(removed) LIMIT 1;
    IF FOUND THEN
        PERFORM loyalty_key_in_use('events', 'ledger_entries_event_seq_fkey', format('Key (seq)=(%s) is still referenced from table "ledger_entries".', gone));
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "events_check_removed_keys_delete" AFTER DELETE ON "events"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "events_check_removed_keys"();
CREATE TRIGGER "events_check_removed_keys_update" AFTER UPDATE ON "events"
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "events_check_removed_keys"();

CREATE FUNCTION "loyalty_refuse_truncate"() RETURNS trigger AS $$
DECLARE
    referencing text;
BEGIN
    FOREACH referencing IN ARRAY TG_ARGV LOOP
        EXECUTE format('SELECT 1 FROM %I LIMIT 1', referencing);
        GET DIAGNOSTICS referencing = ROW_COUNT;
        IF referencing <> '0' THEN
            RAISE EXCEPTION 'truncating "%" is refused while rows elsewhere may name its rows', TG_TABLE_NAME
                USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "merchants_refuse_truncate" BEFORE TRUNCATE ON "merchants" FOR EACH STATEMENT EXECUTE FUNCTION "loyalty_refuse_truncate"('events', 'notifications');
CREATE TRIGGER "members_refuse_truncate" BEFORE TRUNCATE ON "members" FOR EACH STATEMENT EXECUTE FUNCTION "loyalty_refuse_truncate"('orders', 'ledger_entries');
CREATE TRIGGER "program_versions_refuse_truncate" BEFORE TRUNCATE ON "program_versions" FOR EACH STATEMENT EXECUTE FUNCTION "loyalty_refuse_truncate"('events', 'ledger_entries');
CREATE TRIGGER "orders_refuse_truncate" BEFORE TRUNCATE ON "orders" FOR EACH STATEMENT EXECUTE FUNCTION "loyalty_refuse_truncate"('ledger_entries');
CREATE TRIGGER "events_refuse_truncate" BEFORE TRUNCATE ON "events" FOR EACH STATEMENT EXECUTE FUNCTION "loyalty_refuse_truncate"('ledger_entries');
