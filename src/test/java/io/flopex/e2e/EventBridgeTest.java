package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.fixture;
import static io.flopex.testing.FakeUpstream.json;
import static io.flopex.testing.FakeUpstream.openAiError;
import static org.assertj.core.api.Assertions.assertThat;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The read-only TCP event-bus bridge: a consumer written in any language reads one event per
 * request and one per health change, in the bridge's framing, and can reach nothing else.
 */
class EventBridgeTest {

  private static final String CANARY = "CANARY-7f3e-bridge";

  private Vertx vertx;
  private FakeUpstream a;
  private FakeUpstream b;
  private Gateway gateway;
  private int bridgePort;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
    a = FakeUpstream.start(vertx);
    b = FakeUpstream.start(vertx);
    try (ServerSocket socket = new ServerSocket(0)) {
      bridgePort = socket.getLocalPort();
    }
    gateway = Gateway.builder(vertx)
        .provider("a", a.baseUrl())
        .provider("b", b.baseUrl())
        .model("m", "a", "b")
        .bridge("enabled", true).bridge("port", bridgePort)
        .start();
  }

  @AfterEach
  void stop() {
    gateway.close();
    a.close();
    b.close();
    Sync.await(vertx.close());
  }

  /** One connection speaking the bridge's protocol: a 4-byte length, then a JSON frame. */
  private final class Client implements AutoCloseable {

    private final Socket socket = new Socket("127.0.0.1", bridgePort);
    private final DataInputStream in = new DataInputStream(socket.getInputStream());
    private final DataOutputStream out = new DataOutputStream(socket.getOutputStream());

    Client() throws IOException {
      socket.setSoTimeout(10_000);
    }

    void send(JsonObject frame) throws IOException {
      byte[] bytes = frame.encode().getBytes(StandardCharsets.UTF_8);
      out.writeInt(bytes.length);
      out.write(bytes);
      out.flush();
    }

    JsonObject read() throws IOException {
      byte[] bytes = new byte[in.readInt()];
      in.readFully(bytes);
      return new JsonObject(new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * Registers, then waits for the answer to a ping sent after it: the bridge handles frames
     * in order, so the registration is in place and no event can be missed.
     */
    void register(String address) throws IOException {
      send(new JsonObject().put("type", "register").put("address", address));
      send(new JsonObject().put("type", "ping"));
      assertThat(read().getString("type")).isEqualTo("pong");
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private String chat() {
    return "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"" + CANARY
        + "\"},{\"role\":\"user\",\"content\":\"" + CANARY + "\"}]}";
  }

  @Test
  void everyRequestIsOneEventWithItsRoutingOutcomeAndNoContent() throws IOException {
    a.always(json(500, openAiError("echo " + CANARY, "server_error", null)));
    b.always(json(200, fixture("openai/openai-text.json")));
    try (Client client = new Client()) {
      client.register("flopex.requests");

      assertThat(gateway.post("/v1/chat/completions", chat()).statusCode()).isEqualTo(200);

      JsonObject frame = client.read();
      assertThat(frame.getString("type")).isEqualTo("message");
      assertThat(frame.getString("address")).isEqualTo("flopex.requests");
      JsonObject event = frame.getJsonObject("body");
      assertThat(event.getString("model")).isEqualTo("m");
      assertThat(event.getString("provider")).isEqualTo("b");
      assertThat(event.getInteger("status")).isEqualTo(200);
      assertThat(event.getJsonArray("attempts")).hasSize(2);
      assertThat(event.getJsonArray("attempts").getJsonObject(0).getString("outcome"))
          .isEqualTo("http_500");
      assertThat(event.getLong("promptTokens")).isPositive();
      assertThat(event.getLong("costMicros")).isPositive();
      assertThat(event.encode()).doesNotContain(CANARY).doesNotContain(gateway.key())
          .doesNotContain("accountId").doesNotContain("keyId");
    }
  }

  @Test
  void healthChangesArePublishedToo() throws IOException {
    a.always(json(429, openAiError("slow down", "requests", "rate_limit_exceeded"),
        "retry-after", "30"));
    b.always(json(200, fixture("openai/openai-text.json")));
    try (Client client = new Client()) {
      client.register("flopex.health");

      gateway.post("/v1/chat/completions", chat());

      JsonObject fact = client.read().getJsonObject("body");
      assertThat(fact.getString("kind")).isEqualTo("cooldown");
      assertThat(fact.getString("provider")).isEqualTo("a");
      assertThat(fact.getString("upstreamModel")).isEqualTo("up-a");
      assertThat(fact.getLong("until")).isGreaterThan(System.currentTimeMillis() + 20_000);
    }
  }

  @Test
  void nothingElseCanBeReadOrSent() throws IOException {
    try (Client client = new Client()) {
      client.send(new JsonObject().put("type", "register").put("address", "flopex.usage.record"));
      assertThat(client.read().getString("message")).isEqualTo("access_denied");
      client.send(new JsonObject().put("type", "send").put("address", "flopex.routing.plan")
          .put("body", new JsonObject()));
      assertThat(client.read().getString("message")).isEqualTo("access_denied");
      client.send(new JsonObject().put("type", "publish").put("address", "flopex.health")
          .put("body", new JsonObject().put("kind", "cooldown")));
      assertThat(client.read().getString("message")).isEqualTo("access_denied");
    }
  }
}
