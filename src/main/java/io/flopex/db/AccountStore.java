package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.UUID;

/** Accounts and inference keys in PostgreSQL. Keys are kept as hashes only. */
public final class AccountStore {

  /** The account and key a valid inference key belongs to. */
  public record KeyOwner(UUID keyId, UUID accountId, byte[] hash) {}

  private final Pool pool;

  public AccountStore(Pool pool) {
    this.pool = pool;
  }

  public Future<JsonObject> createAccount(String email) {
    UUID id = UUID.randomUUID();
    return pool.preparedQuery("INSERT INTO accounts (id, email) VALUES ($1, $2) RETURNING created_at")
        .execute(Tuple.of(id, email))
        .map(rows -> new JsonObject()
            .put("id", id.toString())
            .put("email", email)
            .put("created_at", rows.iterator().next().getOffsetDateTime(0).toString()));
  }

  public Future<Boolean> accountExists(UUID id) {
    return pool.preparedQuery("SELECT 1 FROM accounts WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> rows.size() > 0);
  }

  /** Stores a new key; the caller shows {@code key} once and forgets it. */
  public Future<JsonObject> createKey(UUID accountId, String name, ApiKeys.NewKey key) {
    UUID id = UUID.randomUUID();
    return pool.preparedQuery("INSERT INTO api_keys (id, account_id, name, prefix, key_hash)"
            + " VALUES ($1, $2, $3, $4, $5) RETURNING created_at")
        .execute(Tuple.of(id, accountId, name, key.prefix(), Buffer.buffer(key.hash())))
        .map(rows -> new JsonObject()
            .put("id", id.toString())
            .put("account_id", accountId.toString())
            .put("name", name)
            .put("key", key.key())
            .put("prefix", key.prefix())
            .put("created_at", rows.iterator().next().getOffsetDateTime(0).toString()));
  }

  public Future<JsonArray> listKeys(UUID accountId) {
    return pool.preparedQuery("SELECT id, name, prefix, created_at, revoked_at FROM api_keys"
            + " WHERE account_id = $1 ORDER BY created_at, id")
        .execute(Tuple.of(accountId))
        .map(rows -> {
          JsonArray keys = new JsonArray();
          for (Row row : rows) {
            OffsetDateTime revoked = row.getOffsetDateTime("revoked_at");
            keys.add(new JsonObject()
                .put("id", row.getUUID("id").toString())
                .put("name", row.getString("name"))
                .put("prefix", row.getString("prefix"))
                .put("created_at", row.getOffsetDateTime("created_at").toString())
                .put("revoked_at", revoked == null ? null : revoked.toString()));
          }
          return keys;
        });
  }

  /** Revokes a key; the future holds {@code false} when no such key exists. */
  public Future<Boolean> revokeKey(UUID keyId) {
    return pool.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
            + " WHERE id = $1 RETURNING key_hash")
        .execute(Tuple.of(keyId))
        .map(rows -> rows.size() > 0);
  }

  /** Finds the live key with this hash; {@code null} when there is none. */
  public Future<KeyOwner> findByHash(byte[] hash) {
    return pool.preparedQuery("SELECT id, account_id, key_hash FROM api_keys"
            + " WHERE key_hash = $1 AND revoked_at IS NULL")
        .execute(Tuple.of(Buffer.buffer(hash)))
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row row = rows.iterator().next();
          return new KeyOwner(row.getUUID("id"), row.getUUID("account_id"),
              row.getBuffer("key_hash").getBytes());
        });
  }
}
