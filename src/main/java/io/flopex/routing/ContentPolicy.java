package io.flopex.routing;

import io.flopex.bus.ProviderFailure;
import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * Recognises a provider refusing a request under its content policy, as OpenAI
 * ({@code content_policy_violation}), Azure OpenAI ({@code content_filter}, "content management
 * policy") and OpenAI-compatible hosts word it.
 */
public final class ContentPolicy {

  private ContentPolicy() {}

  public static boolean refused(ProviderFailure failure) {
    JsonObject error = failure.clientError();
    if (failure.kind() != ProviderFailure.Kind.HTTP_STATUS || error == null) {
      return false;
    }
    for (String field : new String[] {"code", "type"}) {
      Object value = error.getValue(field);
      if ("content_policy_violation".equals(value) || "content_filter".equals(value)) {
        return true;
      }
    }
    if (!(error.getValue("message") instanceof String message)) {
      return false;
    }
    String m = message.toLowerCase(Locale.ROOT);
    return m.contains("content policy") || m.contains("content management policy")
        || m.contains("usage policies") || m.contains("safety system");
  }
}
