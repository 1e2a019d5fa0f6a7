package io.flopex.ingress;

import io.flopex.db.KeyCounters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * Counters of requests refused before any provider was called: by a key's own limits
 * ({@code flopex.key_limit.refusals}, labelled by the limit reached) and by the account's wallet
 * ({@code flopex.wallet.refusals}). Created once per node; counting is a lock-free increment.
 */
public final class Refusals {

  private final Map<KeyCounters.Refusal, Counter> keyLimits =
      new EnumMap<>(KeyCounters.Refusal.class);
  private final Counter wallet;
  private final Counter metering;

  public Refusals(MeterRegistry registry) {
    for (KeyCounters.Refusal refusal : KeyCounters.Refusal.values()) {
      keyLimits.put(refusal, Counter.builder("flopex.key_limit.refusals")
          .description("Requests refused by their key's limits: 429 for requests, tokens and"
              + " concurrency, 402 for credit")
          .tag("limit", refusal.name().toLowerCase(Locale.ROOT))
          .register(registry));
    }
    wallet = Counter.builder("flopex.wallet.refusals")
        .description("Requests refused with 402 because the wallet did not cover their worst"
            + " case")
        .register(registry);
    metering = Counter.builder("flopex.usage.backlog.refusals")
        .description("Requests refused with 503 because usage.maxPending usage rows were waiting"
            + " to be written")
        .register(registry);
  }

  void metering() {
    metering.increment();
  }

  void keyLimit(KeyCounters.Refusal refusal) {
    keyLimits.get(refusal).increment();
  }

  void wallet() {
    wallet.increment();
  }
}
