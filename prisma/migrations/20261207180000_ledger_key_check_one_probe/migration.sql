-- The ledger entries' key check (20261207030000_statement_key_checks) looked
-- each named order and event up twice: once to lock the rows another
-- transaction wrote (FOR KEY SHARE, as a foreign key does), once to check
-- that every key names a row. Nearly all of them are rows this transaction
-- wrote itself (an order's entries name the order and the event written in
-- the same statement; an import's, its batch's): those exist (this
-- transaction sees them) and no other transaction can delete them before
-- it ends, so they need neither. Now one probe a key finds the keys whose
-- row this transaction did not write (or that name no row), and only those
-- are locked and then checked with a fresh snapshot, as before. The
-- members' and program versions' keys are checked as before (a statement
-- names a few of them). Errors are the same: foreign_key_violation naming
-- the constraint.
--
-- The probe is a left join on purpose: written as NOT EXISTS (... AND
-- p.xmin = mine) the planner scanned the whole named table once per
-- statement (a filter on xmin it estimated as selective).
CREATE OR REPLACE FUNCTION "ledger_entries_check_keys"() RETURNS trigger AS $$
DECLARE
    mine xid := pg_current_xact_id()::xid;
    missing text;
    orders_named uuid[];
    events_named bigint[];
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
    -- Orders and events: the keys whose row this transaction did not write, locked, then checked.
    SELECT array_agg(k.order_id) INTO orders_named FROM (SELECT DISTINCT order_id FROM new_rows WHERE order_id IS NOT NULL) k
      LEFT JOIN "orders" p ON p.id = k.order_id
     WHERE p.id IS NULL OR p.xmin <> mine;
    IF orders_named IS NOT NULL THEN
        PERFORM 1 FROM "orders" p WHERE p.id = ANY (orders_named) FOR KEY SHARE OF p;
        SELECT k.id::text INTO missing FROM unnest(orders_named) AS k(id)
         WHERE NOT EXISTS (SELECT 1 FROM "orders" p WHERE p.id = k.id) LIMIT 1;
        IF FOUND THEN
            PERFORM loyalty_key_missing('ledger_entries', 'ledger_entries_order_id_fkey', format('Key (order_id)=(%s) is not present in table "orders".', missing));
        END IF;
    END IF;
    SELECT array_agg(k.event_seq) INTO events_named FROM (SELECT DISTINCT event_seq FROM new_rows WHERE event_seq IS NOT NULL) k
      LEFT JOIN "events" p ON p.seq = k.event_seq
     WHERE p.seq IS NULL OR p.xmin <> mine;
    IF events_named IS NOT NULL THEN
        PERFORM 1 FROM "events" p WHERE p.seq = ANY (events_named) FOR KEY SHARE OF p;
        SELECT k.seq::text INTO missing FROM unnest(events_named) AS k(seq)
         WHERE NOT EXISTS (SELECT 1 FROM "events" p WHERE p.seq = k.seq) LIMIT 1;
        IF FOUND THEN
            PERFORM loyalty_key_missing('ledger_entries', 'ledger_entries_event_seq_fkey', format('Key (event_seq)=(%s) is not present in table "events".', missing));
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off;
