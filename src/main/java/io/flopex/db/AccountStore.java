package io.flopex.db;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Accounts and inference keys in PostgreSQL. Keys are kept as hashes only. */
public final class AccountStore {

  /** The account and key a valid inference key belongs to, and what the key is allowed. */
  public record KeyOwner(UUID keyId, UUID accountId, byte[] hash, KeyLimits limits) {

    public KeyOwner(UUID keyId, UUID accountId, byte[] hash) {
      this(keyId, accountId, hash, KeyLimits.NONE);
    }
  }

  private static final String KEY_COLUMNS = "id, name, prefix, created_at, revoked_at,"
      + " limit_micros, limit_reset, rpm, tpm, max_concurrent, expires_at, allowed_models";

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
    return createKey(accountId, name, key, KeyLimits.NONE);
  }

  /** Stores a new key with its limits; the caller shows {@code key} once and forgets it. */
  public Future<JsonObject> createKey(UUID accountId, String name, ApiKeys.NewKey key,
      KeyLimits limits) {
    UUID id = UUID.randomUUID();
    return pool.preparedQuery("INSERT INTO api_keys (id, account_id, name, prefix, key_hash,"
            + " limit_micros, limit_reset, rpm, tpm, max_concurrent, expires_at, allowed_models)"
            + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING "
            + KEY_COLUMNS)
        .execute(Tuple.from(new Object[] {id, accountId, name, key.prefix(),
            Buffer.buffer(key.hash()), limits.limitMicros(), limits.limitReset(), limits.rpm(),
            limits.tpm(), limits.maxConcurrent(), limits.expiresAt(),
            limits.allowedModels() == null ? null
                : limits.allowedModels().toArray(new String[0])}))
        .map(rows -> describe(rows.iterator().next())
            .put("account_id", accountId.toString())
            .put("key", key.key()));
  }

  public Future<JsonArray> listKeys(UUID accountId) {
    return pool.preparedQuery("SELECT " + KEY_COLUMNS + " FROM api_keys"
            + " WHERE account_id = $1 ORDER BY created_at, id")
        .execute(Tuple.of(accountId))
        .map(rows -> {
          JsonArray keys = new JsonArray();
          for (Row row : rows) {
            keys.add(describe(row));
          }
          return keys;
        });
  }

  /** A key's metadata and limits as the APIs show them; never the key or its hash. */
  private static JsonObject describe(Row row) {
    OffsetDateTime revoked = row.getOffsetDateTime("revoked_at");
    OffsetDateTime expires = row.getOffsetDateTime("expires_at");
    String[] models = row.getArrayOfStrings("allowed_models");
    return new JsonObject()
        .put("id", row.getUUID("id").toString())
        .put("name", row.getString("name"))
        .put("prefix", row.getString("prefix"))
        .put("created_at", row.getOffsetDateTime("created_at").toString())
        .put("revoked_at", revoked == null ? null : revoked.toString())
        .put("limit_micros", row.getLong("limit_micros"))
        .put("limit_reset", row.getString("limit_reset"))
        .put("rpm", row.getInteger("rpm"))
        .put("tpm", row.getLong("tpm"))
        .put("max_concurrent", row.getInteger("max_concurrent"))
        .put("expires_at", expires == null ? null : expires.toString())
        .put("allowed_models", models == null ? null : new JsonArray(List.of(models)));
  }

  /**
   * Changes a key of this account: {@code name} and the limit columns present in
   * {@code changes} (a null value removes the limit). Null when the account has no such key.
   */
  public Future<JsonObject> updateKey(UUID accountId, UUID keyId, String name,
      Map<String, Object> changes) {
    StringBuilder sql = new StringBuilder("UPDATE api_keys SET name = coalesce($3, name)");
    List<Object> values = new ArrayList<>(List.of(keyId, accountId));
    values.add(name);
    for (Map.Entry<String, Object> change : changes.entrySet()) {
      if (!UPDATABLE.contains(change.getKey())) {
        throw new IllegalArgumentException("not an updatable column: " + change.getKey());
      }
      values.add(change.getValue() instanceof List<?> list ? list.toArray(new String[0])
          : change.getValue());
      sql.append(", ").append(change.getKey()).append(" = $").append(values.size());
    }
    sql.append(" WHERE id = $1 AND account_id = $2 RETURNING ").append(KEY_COLUMNS);
    return pool.preparedQuery(sql.toString())
        .execute(Tuple.from(values))
        .map(rows -> rows.size() == 0 ? null : describe(rows.iterator().next()));
  }

  private static final java.util.Set<String> UPDATABLE = java.util.Set.of("limit_micros",
      "limit_reset", "rpm", "tpm", "max_concurrent", "expires_at", "allowed_models");

  /** Revokes a key of this account; false when the account has no such key. */
  public Future<Boolean> revokeKey(UUID accountId, UUID keyId) {
    return pool.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
            + " WHERE id = $1 AND account_id = $2 RETURNING id")
        .execute(Tuple.of(keyId, accountId))
        .map(rows -> rows.size() > 0);
  }

  /** Stores a new management key for the account; shown once by the caller. */
  public Future<JsonObject> createManagementKey(UUID accountId, ApiKeys.NewKey key) {
    UUID id = UUID.randomUUID();
    return pool.preparedQuery("INSERT INTO management_keys (id, account_id, prefix, key_hash)"
            + " VALUES ($1, $2, $3, $4) RETURNING created_at")
        .execute(Tuple.of(id, accountId, key.prefix(), Buffer.buffer(key.hash())))
        .map(rows -> new JsonObject()
            .put("id", id.toString())
            .put("account_id", accountId.toString())
            .put("key", key.key())
            .put("prefix", key.prefix())
            .put("created_at", rows.iterator().next().getOffsetDateTime(0).toString()));
  }

  /** The account of a live management key with this hash, or null. */
  public Future<UUID> findManagementKey(byte[] hash) {
    return pool.preparedQuery("SELECT account_id FROM management_keys"
            + " WHERE key_hash = $1 AND revoked_at IS NULL")
        .execute(Tuple.of(Buffer.buffer(hash)))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getUUID(0));
  }

  /** Corrects the account's email; false when there is no such account. */
  public Future<Boolean> updateEmail(UUID accountId, String email) {
    return pool.preparedQuery("UPDATE accounts SET email = $2 WHERE id = $1 RETURNING id")
        .execute(Tuple.of(accountId, email))
        .map(rows -> rows.size() > 0);
  }

  /**
   * A node-wide secret kept in the database, created by the first node that asks for it, so
   * that every node of a cluster has the same one.
   */
  public Future<String> setting(String name, String valueIfAbsent) {
    return pool.preparedQuery("INSERT INTO settings (name, value) VALUES ($1, $2)"
            + " ON CONFLICT (name) DO NOTHING")
        .execute(Tuple.of(name, valueIfAbsent))
        .compose(v -> pool.preparedQuery("SELECT value FROM settings WHERE name = $1")
            .execute(Tuple.of(name)))
        .map(rows -> rows.iterator().next().getString(0));
  }

  /** Revokes any account's key (admin); the future holds {@code false} when there is none. */
  public Future<Boolean> revokeKey(UUID keyId) {
    return pool.preparedQuery("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
            + " WHERE id = $1 RETURNING key_hash")
        .execute(Tuple.of(keyId))
        .map(rows -> rows.size() > 0);
  }

  /** Finds the live key with this hash; {@code null} when there is none. */
  public Future<KeyOwner> findByHash(byte[] hash) {
    return pool.preparedQuery("SELECT id, account_id, key_hash, limit_micros, limit_reset, rpm,"
            + " tpm, max_concurrent, expires_at, allowed_models FROM api_keys"
            + " WHERE key_hash = $1 AND revoked_at IS NULL")
        .execute(Tuple.of(Buffer.buffer(hash)))
        .map(rows -> {
          if (rows.size() == 0) {
            return null;
          }
          Row row = rows.iterator().next();
          String[] models = row.getArrayOfStrings("allowed_models");
          return new KeyOwner(row.getUUID("id"), row.getUUID("account_id"),
              row.getBuffer("key_hash").getBytes(), new KeyLimits(row.getLong("limit_micros"),
                  row.getString("limit_reset"), row.getInteger("rpm"), row.getLong("tpm"),
                  row.getInteger("max_concurrent"), row.getOffsetDateTime("expires_at"),
                  models == null ? null : List.of(models)));
        });
  }
}
