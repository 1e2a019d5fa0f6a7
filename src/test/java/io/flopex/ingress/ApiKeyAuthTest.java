package io.flopex.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.db.AccountStore.KeyOwner;
import io.flopex.db.ApiKeys;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What reaches the database: one lookup per key and cache time, known or not. */
class ApiKeyAuthTest {

  private final Map<String, KeyOwner> database = new HashMap<>();
  private final AtomicInteger lookups = new AtomicInteger();
  private final ApiKeyAuth auth = new ApiKeyAuth(hash -> {
    lookups.incrementAndGet();
    return Future.succeededFuture(database.get(HexFormat.of().formatHex(hash)));
  });

  private KeyOwner store(String key) {
    byte[] hash = ApiKeys.hash(key);
    KeyOwner owner = new KeyOwner(UUID.randomUUID(), UUID.randomUUID(), hash);
    database.put(HexFormat.of().formatHex(hash), owner);
    return owner;
  }

  private KeyOwner authenticate(String key) {
    Future<KeyOwner> found = auth.authenticate("Bearer " + key);
    assertThat(found.isComplete()).isTrue();
    return found.result();
  }

  @Test
  void aKnownKeyIsLookedUpOnceWhileCached() {
    String key = ApiKeys.generate().key();
    KeyOwner owner = store(key);

    for (int i = 0; i < 20; i++) {
      assertThat(authenticate(key)).isSameAs(owner);
    }
    assertThat(lookups).hasValue(1);
  }

  @Test
  void anUnknownKeyRetriedInALoopIsLookedUpOnceWhileRemembered() {
    String unknown = ApiKeys.generate().key();
    String other = ApiKeys.generate().key();

    for (int i = 0; i < 20; i++) {
      assertThat(authenticate(unknown)).isNull();
    }
    assertThat(lookups).hasValue(1);
    // Another unknown key is looked up on its own.
    assertThat(authenticate(other)).isNull();
    assertThat(lookups).hasValue(2);
    // Malformed keys never reach the database.
    assertThat(authenticate("sk-wrong")).isNull();
    assertThat(lookups).hasValue(2);
  }

  @Test
  void aKeyRevokedThroughThisNodeIsRefusedAtOnceAndStaysRefused() {
    String key = ApiKeys.generate().key();
    KeyOwner owner = store(key);
    assertThat(authenticate(key)).isSameAs(owner);

    auth.forget(owner.keyId());
    // A stale read still finds the key: the node knows better.
    assertThat(authenticate(key)).isNull();
    assertThat(authenticate(key)).isNull();
    assertThat(lookups).hasValue(2);
  }

  @Test
  void aFailedLookupIsNotRemembered() {
    AtomicInteger calls = new AtomicInteger();
    ApiKeyAuth failing = new ApiKeyAuth(hash -> {
      calls.incrementAndGet();
      return Future.failedFuture("database down");
    });
    String key = ApiKeys.generate().key();

    assertThat(failing.authenticate("Bearer " + key).failed()).isTrue();
    assertThat(failing.authenticate("Bearer " + key).failed()).isTrue();
    assertThat(calls).hasValue(2);
  }
}
