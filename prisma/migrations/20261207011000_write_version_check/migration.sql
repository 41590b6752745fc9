-- A write statement checks its own optimistic version checks (services/write.ts):
-- when fewer member rows were updated than it was given (one changed since it
-- was read), the statement fails with serialization_failure, which the server
-- retries. Failing the statement, not the caller after it, matters when COMMIT
-- is sent in the same round trip: the server then answers COMMIT with ROLLBACK
-- instead of committing half a write.
CREATE FUNCTION "loyalty_check_updated"(expected integer, updated integer) RETURNS integer AS $$
BEGIN
    IF updated <> expected THEN
        RAISE EXCEPTION 'a member row changed since it was read (% of % updated)', updated, expected
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN updated;
END
$$ LANGUAGE plpgsql;
