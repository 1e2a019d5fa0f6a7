package io.flopex.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Inference keys: {@code sk-flx-} followed by 43 characters of URL-safe base64 (256 random bits).
 * With that much entropy a plain SHA-256 is a safe stored form; a slow password hash would only
 * add latency to every request.
 */
public final class ApiKeys {

  public static final String PREFIX = "sk-flx-";
  /** Management keys: they manage an account through the account API and call no model. */
  public static final String MANAGEMENT_PREFIX = "mk-flx-";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A freshly generated key: the secret itself, what is stored, and what is displayed. */
  public record NewKey(String key, byte[] hash, String prefix) {

    @Override
    public String toString() {
      return "NewKey[prefix=" + prefix + "]";
    }
  }

  private ApiKeys() {}

  public static NewKey generate() {
    return generate(PREFIX);
  }

  /** A new key with this prefix: {@link #PREFIX} for inference, {@link #MANAGEMENT_PREFIX}. */
  public static NewKey generate(String prefix) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String key = prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return new NewKey(key, hash(key), key.substring(0, prefix.length() + 6));
  }

  /** Whether the text has the shape of a management key. */
  public static boolean wellFormedManagement(String key) {
    return key != null && key.length() == MANAGEMENT_PREFIX.length() + 43
        && key.startsWith(MANAGEMENT_PREFIX);
  }

  /** Whether the text has the shape of a Flopex key; cheap, to skip the lookup for junk. */
  public static boolean wellFormed(String key) {
    return key != null && key.length() == PREFIX.length() + 43 && key.startsWith(PREFIX);
  }

  public static byte[] hash(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
