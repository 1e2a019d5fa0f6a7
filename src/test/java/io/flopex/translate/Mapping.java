package io.flopex.translate;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.flopex.config.ProviderConfig;
import io.flopex.config.ProviderKind;
import io.flopex.config.Timeouts;
import io.flopex.ingress.ApiError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds client requests, runs them through a translator, and reads what came out. */
final class Mapping {

  static final String CLIENT_MODEL = "client-model";
  static final String UPSTREAM_MODEL = "upstream-model";

  private Mapping() {}

  record Sent(JsonObject body, List<String> warnings) {}

  static Sent send(ClientFormat format, ProviderKind kind, JsonObject request, boolean stream) {
    List<String> warnings = new ArrayList<>();
    JsonObject body = Translators.forPair(format, kind)
        .request(request, UPSTREAM_MODEL, stream, warnings);
    return new Sent(body, warnings);
  }

  static Sent send(ClientFormat format, ProviderKind kind, JsonObject request) {
    return send(format, kind, request, false);
  }

  static UnsupportedRequest refusal(ClientFormat format, ProviderKind kind, JsonObject request) {
    return catchThrowableOfType(UnsupportedRequest.class,
        () -> send(format, kind, request));
  }

  static Translated answer(ClientFormat format, ProviderKind kind, JsonObject upstream) {
    return Translators.forPair(format, kind).response(upstream, CLIENT_MODEL);
  }

  /** Every object key anywhere in a JSON value. */
  static Set<String> keys(Object json) {
    Set<String> keys = new LinkedHashSet<>();
    collect(json, keys);
    return keys;
  }

  private static void collect(Object json, Set<String> keys) {
    if (json instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        keys.add(e.getKey());
        collect(e.getValue(), keys);
      }
    } else if (json instanceof JsonArray a) {
      a.forEach(v -> collect(v, keys));
    }
  }

  static JsonObject msg(String role, Object content) {
    return JsonObject.of("role", role, "content", content);
  }

  static JsonArray array(Object... values) {
    return JsonArray.of(values);
  }

  static JsonObject text(String text) {
    return JsonObject.of("type", "text", "text", text);
  }

  /** The request path Flopex uses for a Gemini model, as the provider transport builds it. */
  static String geminiPath(String model, boolean stream) {
    ProviderConfig gemini = new ProviderConfig("gemini", ProviderKind.GEMINI,
        URI.create("https://gemini.test"), "key", Timeouts.DEFAULT, 1, Map.of());
    try {
      Class<?> dialect = Class.forName("io.flopex.provider.UpstreamDialect");
      Method of = dialect.getDeclaredMethod("of", ProviderConfig.class);
      of.setAccessible(true);
      Object wire = of.invoke(null, gemini);
      Method path = dialect.getDeclaredMethod("path", String.class, boolean.class);
      path.setAccessible(true);
      return (String) path.invoke(wire, model, stream);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  /** What the Messages API's request check says of a body; {@code null} when it passes. */
  static ApiError messagesValidation(JsonObject request) {
    try {
      Class<?> validator = Class.forName("io.flopex.ingress.MessagesRequestValidator");
      Method validate = validator.getDeclaredMethod("validate", Buffer.class);
      validate.setAccessible(true);
      validate.invoke(null, request.toBuffer());
      return null;
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof ApiError error) {
        return error;
      }
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
