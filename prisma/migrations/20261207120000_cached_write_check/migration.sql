-- recordOrder's one-round-trip write (services/members.ts, "the member
-- cache"): a process that wrote a member's last order keeps that row and
-- sends the next order's write for it without locking and reading it first.
-- The write statement checks the member's version itself
-- (loyalty_check_updated); this checks what the lock statement would have
-- read beside it: that the program version the process evaluated with is
-- still the merchant's active one (and the sandbox flag the same), and that
-- the request's API key, when the HTTP layer left its check to the
-- statement, is still valid. A miss fails the statement with
-- serialization_failure (COMMIT, sent with it, then rolls back) and the
-- server writes the order again through the lock statement.
CREATE FUNCTION "loyalty_check_cached"(merchant uuid, program_version uuid, is_sandbox boolean, api_key uuid) RETURNS boolean AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM "merchants" mc JOIN "program_versions" v ON v.merchant_id = mc.id AND v.active
         WHERE mc.id = merchant AND v.id = program_version AND mc.sandbox = is_sandbox
    ) THEN
        RAISE EXCEPTION 'the active program version changed since the member row was cached'
            USING ERRCODE = 'serialization_failure';
    END IF;
    IF api_key IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM "api_keys" k WHERE k.id = api_key AND k.merchant_id = merchant AND k.revoked_at IS NULL
    ) THEN
        RAISE EXCEPTION 'the API key is no longer valid'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN true;
END
$$ LANGUAGE plpgsql STABLE;
