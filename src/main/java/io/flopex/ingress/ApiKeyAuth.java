package io.flopex.ingress;

import io.flopex.db.AccountStore;
import io.flopex.db.AccountStore.KeyOwner;
import io.flopex.db.ApiKeys;
import io.vertx.core.Future;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Resolves an inference key to its account. Valid keys are remembered for a few seconds so that
 * the database is not asked on every request; revoking a key through this node forgets it at once,
 * and other nodes forget it when their cached entry expires. Keys the database does not know, or
 * knows as revoked, are remembered as long, so that a client retrying a dead key in a loop costs
 * one lookup every few seconds instead of one a request; no key becomes valid again once it was
 * unknown or revoked (keys are random and revocation is final).
 */
public final class ApiKeyAuth {

  /** How long a verified key is trusted without asking the database again. */
  static final long CACHE_MS = 5_000;
  private static final int MAX_CACHED = 100_000;
  /** A key lookup slower than this means the database is in trouble: answer 503, do not hang. */
  static final long LOOKUP_TIMEOUT_MS = 5_000;

  private record Cached(KeyOwner owner, long expiresAtNanos) {}

  private final Function<byte[], Future<KeyOwner>> lookup;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
  /** Keys found unknown or revoked, until when (nanoTime). */
  private final ConcurrentHashMap<String, Long> refused = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<java.util.UUID, Long> revoked = new ConcurrentHashMap<>();

  public ApiKeyAuth(AccountStore store) {
    this(store::findByHash);
  }

  /** With this lookup of a key's hash in place of the database's. */
  ApiKeyAuth(Function<byte[], Future<KeyOwner>> lookup) {
    this.lookup = lookup;
  }

  /** The key's owner, or {@code null} when the key is missing, malformed, unknown or revoked. */
  public Future<KeyOwner> authenticate(String authorization) {
    String key = bearer(authorization);
    if (!ApiKeys.wellFormed(key)) {
      return Future.succeededFuture(null);
    }
    byte[] hash = ApiKeys.hash(key);
    String cacheKey = HexFormat.of().formatHex(hash);
    Cached cached = cache.get(cacheKey);
    long now = System.nanoTime();
    if (cached != null && cached.expiresAtNanos - now > 0) {
      return Future.succeededFuture(cached.owner);
    }
    Long refusedUntil = refused.get(cacheKey);
    if (refusedUntil != null && refusedUntil - now > 0) {
      return Future.succeededFuture(null);
    }
    return lookup.apply(hash).timeout(LOOKUP_TIMEOUT_MS, TimeUnit.MILLISECONDS).map(owner -> {
      if (owner == null || !MessageDigest.isEqual(owner.hash(), hash)
          || revoked.containsKey(owner.keyId())) {
        cache.remove(cacheKey);
        if (refused.size() >= MAX_CACHED) {
          refused.clear();
        }
        refused.put(cacheKey, now + CACHE_MS * 1_000_000);
        return null;
      }
      refused.remove(cacheKey);
      if (cache.size() >= MAX_CACHED) {
        cache.clear();
      }
      cache.put(cacheKey, new Cached(owner, now + CACHE_MS * 1_000_000));
      return owner;
    });
  }

  /**
   * Forgets a revoked key at once on this node, and remembers that it is revoked long enough
   * that a lookup already in flight cannot put it back in the cache.
   */
  public void forget(java.util.UUID keyId) {
    long now = System.nanoTime();
    revoked.values().removeIf(until -> until - now < 0);
    revoked.put(keyId, now + 2 * (CACHE_MS + LOOKUP_TIMEOUT_MS) * 1_000_000);
    cache.values().removeIf(c -> c.owner.keyId().equals(keyId));
  }

  /** Forgets every cached key of an account at once on this node (the account was erased). */
  public void forgetAccount(java.util.UUID accountId) {
    cache.values().stream().filter(c -> c.owner.accountId().equals(accountId))
        .map(c -> c.owner.keyId()).toList().forEach(this::forget);
  }

  static String bearer(String authorization) {
    if (authorization == null) {
      return null;
    }
    String value = authorization.trim();
    if (value.length() > 7 && value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return value.substring(7).trim();
    }
    return null;
  }
}
