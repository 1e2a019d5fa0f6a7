package io.flopex.e2e;

import static io.flopex.testing.FakeUpstream.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.flopex.testing.FakeUpstream;
import io.flopex.testing.Gateway;
import io.flopex.testing.LogCapture;
import io.flopex.testing.RawHttp;
import io.flopex.testing.Sync;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Malformed traffic carrying a canary, from clients and from upstreams, with every logger at
 * debug: parsers quote what they could not read, and none of it may reach the logs or the
 * database.
 */
class MalformedTrafficLogTest {

  private static final String CANARY = "CANARYLOGPROBE7731";

  private Vertx vertx;
  private FakeUpstream upstream;
  private FakeUpstream claude;
  private FakeUpstream gemini;
  private NetServer broken;
  private NetServer badHeader;
  private LogCapture logs;

  @BeforeEach
  void start() {
    logs = LogCapture.debug();
    vertx = Vertx.vertx();
    upstream = FakeUpstream.start(vertx);
    claude = FakeUpstream.start(vertx);
    gemini = FakeUpstream.start(vertx);
    // An upstream (or a proxy in front of it) whose content-length is short of the answer: the
    // rest of the model's output stays on the kept-alive connection, where the HTTP client
    // reads it as the head of a next response.
    String answer = FakeUpstream.fixture("openai/openai-text.json");
    int length = answer.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    broken = Sync.await(vertx.createNetServer().connectHandler(socket -> socket.handler(b ->
        socket.write(Buffer.buffer("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + "content-length: " + length + "\r\n\r\n" + answer + CANARY
            + " and the rest of the answer\r\n\r\n"))))
        .listen(0, "127.0.0.1"));
    // One whose header carries output where a number belongs.
    badHeader = Sync.await(vertx.createNetServer().connectHandler(socket -> socket.handler(b ->
        socket.write(Buffer.buffer("HTTP/1.1 200 OK\r\ncontent-length: zz" + CANARY
            + "\r\n\r\n{}"))))
        .listen(0, "127.0.0.1"));
  }

  @AfterEach
  void stop() {
    upstream.close();
    claude.close();
    gemini.close();
    Sync.await(broken.close());
    Sync.await(badHeader.close());
    Sync.await(vertx.close());
    logs.close();
  }

  private static String chat(String model, boolean stream, String content) {
    return "{\"model\":\"" + model + "\",\"stream\":" + stream + ",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"" + content + "\"}]}";
  }

  @Test
  void noCanaryReachesTheLogs() {
    JsonObject t = new JsonObject().put("connectMs", 1000).put("firstByteMs", 2000)
        .put("idleMs", 2000).put("responseMs", 3000);
    try (Gateway gateway = Gateway.builder(vertx)
        .provider("p", upstream.baseUrl())
        .provider("cl", "anthropic", claude.rootUrl(), "sk-ant-x", t)
        .provider("ge", "gemini", gemini.rootUrl(), "g-key-x", t)
        .provider("br", "openai-compatible", "http://127.0.0.1:" + broken.actualPort() + "/v1",
            "sk-br", t)
        .provider("bh", "openai-compatible", "http://127.0.0.1:" + badHeader.actualPort()
            + "/v1", "sk-bh", t)
        .model("m", "p").model("to-claude", "cl").model("to-gemini", "ge").model("brk", "br")
        .model("bad-header", "bh")
        .start()) {
      // 1. Malformed client JSON.
      gateway.post("/v1/chat/completions", "{\"model\":\"m\",\"messages\":[{\"content\":\""
          + CANARY);
      gateway.post("/v1/messages", "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[\"" + CANARY);
      // 2. Malformed upstream JSON, plain and streamed.
      upstream.then(json(200, "{\"choices\":[{\"message\":{\"content\":\"" + CANARY));
      gateway.post("/v1/chat/completions", chat("m", false, "hi"));
      upstream.then(FakeUpstream.writes(List.of("data: {\"choices\":[{\"delta\":{\"content\":\""
          + CANARY + "\n\n"), 0, true));
      gateway.post("/v1/chat/completions", chat("m", true, "hi"));
      // 3. Upstream non-JSON error bodies quoting the prompt.
      upstream.then(json(400, "<html>" + CANARY + "</html>"));
      gateway.post("/v1/chat/completions", chat("m", false, CANARY));
      upstream.then(json(500, "{\"error\":" + CANARY + "}"));
      gateway.post("/v1/chat/completions", chat("m", false, CANARY));
      // 4. Translation errors: tool arguments that are not JSON, to Anthropic and Gemini.
      String badTools = "{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
          + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":"
          + "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{" + CANARY + "\"}}]},"
          + "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"" + CANARY + "\"}]}";
      gateway.post("/v1/chat/completions", badTools.formatted("to-claude"));
      gateway.post("/v1/chat/completions", badTools.formatted("to-gemini"));
      // Upstream answers of an unexpected shape.
      claude.then(json(200, "{\"type\":\"message\",\"content\":\"" + CANARY + "\"}"));
      gateway.post("/v1/chat/completions", chat("to-claude", false, "hi"));
      gemini.then(json(200, "{\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":"
          + "{\"name\":\"f\",\"args\":\"" + CANARY + "\"}}]}}]}"));
      gateway.post("/v1/chat/completions", chat("to-gemini", false, "hi"));
      // 5. A broken HTTP response from upstream.
      gateway.post("/v1/chat/completions", chat("brk", false, "hi"));
      gateway.post("/v1/chat/completions", chat("brk", true, "hi"));
      gateway.post("/v1/chat/completions", chat("bad-header", false, "hi"));
      // 6. Raw HTTP from the client: a content-length shorter than the body, so the rest of
      // the prompt is read as the next request's head; and a bad chunk size.
      String body = chat("m", false, "hi") + "\r\nthe rest of my prompt " + CANARY + "\r\n\r\n";
      try (RawHttp raw = RawHttp.connect(gateway.port())) {
        raw.write(RawHttp.head("POST", "/v1/chat/completions", "authorization",
            "Bearer " + gateway.key(), "content-type", "application/json", "content-length",
            Integer.toString(chat("m", false, "hi").length())) + body);
        raw.closedByPeer();
      }
      try (RawHttp raw = RawHttp.connect(gateway.port())) {
        raw.write(RawHttp.head("POST", "/v1/chat/completions", "authorization",
            "Bearer " + gateway.key(), "content-type", "application/json",
            "transfer-encoding", "chunked") + "5\r\n{\"mod\r\n" + CANARY + "\r\n\r\n");
        raw.closedByPeer();
      }
      try (RawHttp raw = RawHttp.connect(gateway.port())) {
        raw.write("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nX-" + CANARY + ": "
            + CANARY + "\u0001\r\n" + CANARY + "\r\n\r\n");
        raw.closedByPeer();
      }
      // The broken upstream connections fail after their answers were read: wait for them.
      await().atMost(Duration.ofSeconds(10)).until(() -> logs.text().contains(
          "Provider br: connection failed") && logs.text().contains("Provider bh: connection"));
      await().atMost(Duration.ofSeconds(10)).until(() -> logs.text().contains(
          "A client connection failed"));
      String stored = gateway.databaseDump();
      assertThat(stored).as("database").doesNotContain(CANARY);
      assertThat(logs.text()).as("logs").doesNotContain(CANARY);
    }
  }
}
