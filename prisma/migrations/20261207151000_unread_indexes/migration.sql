-- Two indexes no query reads, dropped: each was written on every insert
-- into the two tables an import fills fastest (~2.6 ledger entries and one
-- notification per event).
-- * ledger_entries (merchant_id, at): made with the first schema for reports
--   by date that were never written. Entries are read by member (member_id,
--   id), by order (order_id) and by event (event_seq).
-- * notifications (merchant_id, id): the feed's index before it paged in
--   commit order; the feed now reads (merchant_id, tx, id), the live
--   subscription and the deliveries read by id (the primary key), reminders
--   by (merchant_id, member, type).
DROP INDEX "ledger_entries_merchant_id_at_idx";
DROP INDEX "notifications_merchant_id_id_idx";
