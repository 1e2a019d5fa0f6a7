package io.flopex.db;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * What one inference key is allowed; a null field sets no limit. {@code limitMicros} is the most
 * the key may spend per {@code limitReset} period ({@code daily}, {@code weekly},
 * {@code monthly}, in UTC; null: over the key's whole life); {@code rpm} and {@code tpm} bound
 * requests and tokens in any 60 seconds; {@code maxConcurrent} the requests in flight at once;
 * {@code allowedModels} the models it may call.
 */
public record KeyLimits(
    Long limitMicros,
    String limitReset,
    Integer rpm,
    Long tpm,
    Integer maxConcurrent,
    OffsetDateTime expiresAt,
    List<String> allowedModels) {

  public static final KeyLimits NONE = new KeyLimits(null, null, null, null, null, null, null);

  /** Whether any limit needs the shared counters checked for each request. */
  public boolean counted() {
    return limitMicros != null || rpm != null || tpm != null || maxConcurrent != null;
  }
}
