package io.flopex.bench.jmh;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * The requests, answers and streams the micro-benchmarks feed the gateway's code. They have the
 * shape real providers send (the same fields, nesting and sizes as recorded OpenAI and Anthropic
 * traffic) with text of their own, and are built once per trial, never while measuring.
 *
 * <p>What the gateway reads off the wire it holds as Vert.x decodes it, nested objects as plain
 * maps that every {@code getValue} wraps afresh; {@link #decoded(JsonObject)} gives the
 * benchmarks the same, so that reading a payload costs what it costs in the gateway.
 */
final class Payloads {

  /** Content chunks in a streamed answer, as the load benchmark's mock upstream sends. */
  static final int CONTENT_CHUNKS = 64;

  /** JSON events of an OpenAI stream: the content chunks, a finish chunk and a usage chunk. */
  static final int OPENAI_JSON_EVENTS = CONTENT_CHUNKS + 2;

  /** Server-sent events of an OpenAI stream: its JSON events and {@code [DONE]}. */
  static final int OPENAI_SSE_EVENTS = OPENAI_JSON_EVENTS + 1;

  /**
   * Events of an Anthropic stream: {@code message_start}, {@code content_block_start}, a {@code
   * ping}, the text deltas, {@code content_block_stop}, {@code message_delta} and {@code
   * message_stop}.
   */
  static final int ANTHROPIC_EVENTS = CONTENT_CHUNKS + 6;

  /** The gateway's default cap on one server-sent event. */
  static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;

  static final String CLIENT_MODEL = "team-default";
  static final String OPENAI_MODEL = "gpt-4.1-mini-2025-04-14";
  static final String ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929";

  private static final String COMPLETION_ID = "chatcmpl-Bq7xT2mQf9LrV4nKc8YwZ1aHs3Ep";
  private static final String MESSAGE_ID = "msg_01HkV8rW3nQyT5bLp2XcZ7Mf";
  private static final long CREATED = 1_770_000_000L;

  private static final String ANSWER = "A routing gateway sits between applications and the"
      + " model providers they call. For each request it picks an endpoint by weight and"
      + " health, retries on another when one fails or is slow to answer, translates between"
      + " the providers' wire formats, streams tokens back the moment they arrive, and records"
      + " what every answer cost. Teams share keys, budgets and limits without changing a line"
      + " of their own code, and operators see latency, errors and spend per model in one place.";

  private static final String SYSTEM_PROMPT = "You are the support assistant of an online"
      + " bookshop. Answer in the customer's language, briefly and politely. Use the tools to"
      + " look up orders and stock; never guess an order's status or a delivery date. If the"
      + " customer asks for a refund, collect the order number and the reason, then hand over"
      + " to a person. Do not discuss other shops or make promises about prices.";

  private Payloads() {}

  /** {@code built} as the gateway holds it after decoding it from the wire. */
  static JsonObject decoded(JsonObject built) {
    return decoded(built.encode());
  }

  /** A JSON object decoded the way the gateway decodes bodies and event payloads. */
  static JsonObject decoded(String json) {
    return (JsonObject) Buffer.buffer(json).toJsonValue();
  }

  /** The answer's text cut into the content deltas of a stream, most of them one word. */
  static List<String> deltas() {
    String[] words = ANSWER.split(" ");
    List<String> out = new ArrayList<>(CONTENT_CHUNKS);
    // The first delta opens the answer; each later one carries the next word with its space.
    // Words beyond the last delta go into it, so the deltas always add up to the whole answer.
    out.add(words[0]);
    for (int i = 1; i < CONTENT_CHUNKS - 1; i++) {
      out.add(" " + words[i]);
    }
    StringBuilder tail = new StringBuilder();
    for (int i = CONTENT_CHUNKS - 1; i < words.length; i++) {
      tail.append(' ').append(words[i]);
    }
    out.add(tail.toString());
    return out;
  }

  // ---- OpenAI Chat Completions -------------------------------------------------------------

  /**
   * The JSON payloads of a streamed OpenAI chat completion: 64 content chunks (the first also
   * names the role), a finish chunk and a usage chunk with no choices, each with the service
   * tier, system fingerprint, null usage and random-length {@code obfuscation} padding OpenAI
   * adds to every chunk.
   */
  static List<String> openAiChunks() {
    List<String> out = new ArrayList<>(OPENAI_JSON_EVENTS);
    List<String> deltas = deltas();
    for (int i = 0; i < deltas.size(); i++) {
      JsonObject delta = new JsonObject();
      if (i == 0) {
        delta.put("role", "assistant");
      }
      delta.put("content", deltas.get(i));
      if (i == 0) {
        delta.putNull("refusal");
      }
      out.add(openAiChunk(delta, null, i).encode());
    }
    out.add(openAiChunk(new JsonObject(), "stop", deltas.size()).encode());
    JsonObject usage = openAiChunk(null, null, deltas.size() + 1);
    usage.put("choices", new JsonArray()).put("usage", openAiUsage(1_184, 97, 1_024, 0));
    out.add(usage.encode());
    return out;
  }

  private static JsonObject openAiChunk(JsonObject delta, String finish, int n) {
    JsonObject chunk = new JsonObject()
        .put("id", COMPLETION_ID)
        .put("object", "chat.completion.chunk")
        .put("created", CREATED)
        .put("model", OPENAI_MODEL)
        .put("service_tier", "default")
        .put("system_fingerprint", "fp_6f2eabb9a5");
    if (delta != null) {
      chunk.put("choices", new JsonArray().add(new JsonObject()
          .put("index", 0)
          .put("delta", delta)
          .putNull("logprobs")
          .put("finish_reason", finish)));
    }
    return chunk.putNull("usage").put("obfuscation", padding(n));
  }

  /** An OpenAI {@code usage} object with the detail objects OpenAI always sends. */
  static JsonObject openAiUsage(long prompt, long completion, long cached, long reasoning) {
    return new JsonObject()
        .put("prompt_tokens", prompt)
        .put("completion_tokens", completion)
        .put("total_tokens", prompt + completion)
        .put("prompt_tokens_details", new JsonObject()
            .put("cached_tokens", cached)
            .put("audio_tokens", 0))
        .put("completion_tokens_details", new JsonObject()
            .put("reasoning_tokens", reasoning)
            .put("audio_tokens", 0)
            .put("accepted_prediction_tokens", 0)
            .put("rejected_prediction_tokens", 0));
  }

  /** The stream as an OpenAI-format provider writes it: one {@code data:} event per chunk. */
  static String openAiSse() {
    StringBuilder out = new StringBuilder();
    for (String chunk : openAiChunks()) {
      out.append("data: ").append(chunk).append("\n\n");
    }
    return out.append("data: [DONE]\n\n").toString();
  }

  /** A complete (non-streamed) OpenAI chat completion of the same answer. */
  static JsonObject openAiCompletion() {
    return new JsonObject()
        .put("id", COMPLETION_ID)
        .put("object", "chat.completion")
        .put("created", CREATED)
        .put("model", OPENAI_MODEL)
        .put("choices", new JsonArray().add(new JsonObject()
            .put("index", 0)
            .put("message", new JsonObject()
                .put("role", "assistant")
                .put("content", ANSWER)
                .putNull("refusal")
                .put("annotations", new JsonArray()))
            .putNull("logprobs")
            .put("finish_reason", "stop")))
        .put("usage", openAiUsage(1_184, 97, 1_024, 0))
        .put("service_tier", "default")
        .put("system_fingerprint", "fp_6f2eabb9a5");
  }

  /**
   * A Chat Completions request from a client in the middle of a tool-using conversation: a
   * system prompt, a user turn, an assistant tool call, the tool's result and a follow-up
   * question, with two function tools and the usual sampling fields.
   */
  static JsonObject chatRequest() {
    JsonArray messages = new JsonArray()
        .add(new JsonObject().put("role", "system").put("content", SYSTEM_PROMPT))
        .add(new JsonObject().put("role", "user").put("content", "Hi, I ordered two books last"
            + " week and only one has arrived. The order number is 40-118-2207. Where is the"
            + " other one?"))
        .add(new JsonObject().put("role", "assistant").putNull("content")
            .put("tool_calls", new JsonArray().add(new JsonObject()
                .put("id", "call_Jf3kP0sQw8ZtLm2R")
                .put("type", "function")
                .put("function", new JsonObject()
                    .put("name", "get_order")
                    .put("arguments", "{\"order_id\":\"40-118-2207\"}")))))
        .add(new JsonObject().put("role", "tool").put("tool_call_id", "call_Jf3kP0sQw8ZtLm2R")
            .put("content", orderLookup()))
        .add(new JsonObject().put("role", "user").put("content", "Can you tell me when the"
            + " second one will come, and whether I can still cancel it?"));
    return new JsonObject()
        .put("model", CLIENT_MODEL)
        .put("messages", messages)
        .put("tools", new JsonArray()
            .add(function("get_order", "Look up an order by its number.",
                new JsonObject().put("order_id", stringSchema("The order number, NN-NNN-NNNN.")),
                "order_id"))
            .add(function("cancel_item", "Cancel one item of an order that has not shipped.",
                new JsonObject()
                    .put("order_id", stringSchema("The order number."))
                    .put("isbn", stringSchema("The ISBN of the item to cancel.")),
                "order_id", "isbn")))
        .put("tool_choice", "auto")
        .put("temperature", 0.4)
        .put("top_p", 1)
        .put("max_completion_tokens", 1024)
        .put("user", "customer-81723")
        .put("stream", true)
        .put("stream_options", new JsonObject().put("include_usage", true));
  }

  private static String orderLookup() {
    return new JsonObject()
        .put("order_id", "40-118-2207")
        .put("placed", "2025-11-03")
        .put("items", new JsonArray()
            .add(new JsonObject().put("isbn", "9780262046305").put("title", "Designing Data"
                + " Systems").put("status", "delivered").put("delivered", "2025-11-06"))
            .add(new JsonObject().put("isbn", "9781098150921").put("title", "Networks at"
                + " Scale").put("status", "awaiting_stock").put("expected_ship", "2025-11-14")))
        .encode();
  }

  private static JsonObject function(String name, String description, JsonObject properties,
      String... required) {
    return new JsonObject().put("type", "function").put("function", new JsonObject()
        .put("name", name)
        .put("description", description)
        .put("parameters", schema(properties, required)));
  }

  private static JsonObject schema(JsonObject properties, String... required) {
    JsonArray names = new JsonArray();
    for (String r : required) {
      names.add(r);
    }
    return new JsonObject().put("type", "object").put("properties", properties)
        .put("required", names).put("additionalProperties", false);
  }

  private static JsonObject stringSchema(String description) {
    return new JsonObject().put("type", "string").put("description", description);
  }

  // ---- OpenAI Responses --------------------------------------------------------------------

  /** The same conversation as a Responses API request: instructions and input items. */
  static JsonObject responsesRequest() {
    JsonArray input = new JsonArray()
        .add(new JsonObject().put("type", "message").put("role", "user")
            .put("content", new JsonArray().add(new JsonObject().put("type", "input_text")
                .put("text", "Hi, I ordered two books last week and only one has arrived. The"
                    + " order number is 40-118-2207. Where is the other one?"))))
        .add(new JsonObject().put("type", "function_call").put("call_id", "call_Jf3kP0sQw8ZtLm2R")
            .put("name", "get_order").put("arguments", "{\"order_id\":\"40-118-2207\"}"))
        .add(new JsonObject().put("type", "function_call_output")
            .put("call_id", "call_Jf3kP0sQw8ZtLm2R").put("output", orderLookup()))
        .add(new JsonObject().put("role", "user").put("content", "Can you tell me when the"
            + " second one will come, and whether I can still cancel it?"));
    return new JsonObject()
        .put("model", CLIENT_MODEL)
        .put("instructions", SYSTEM_PROMPT)
        .put("input", input)
        .put("tools", new JsonArray()
            .add(new JsonObject().put("type", "function").put("name", "get_order")
                .put("description", "Look up an order by its number.")
                .put("parameters", schema(new JsonObject()
                    .put("order_id", stringSchema("The order number, NN-NNN-NNNN.")), "order_id")))
            .add(new JsonObject().put("type", "function").put("name", "cancel_item")
                .put("description", "Cancel one item of an order that has not shipped.")
                .put("parameters", schema(new JsonObject()
                    .put("order_id", stringSchema("The order number."))
                    .put("isbn", stringSchema("The ISBN of the item to cancel.")),
                    "order_id", "isbn"))))
        .put("temperature", 0.4)
        .put("max_output_tokens", 1024)
        .put("user", "customer-81723")
        .put("stream", true);
  }

  // ---- Anthropic Messages ------------------------------------------------------------------

  /** The same conversation as an Anthropic Messages request, as Anthropic's SDKs write it. */
  static JsonObject messagesRequest() {
    JsonArray messages = new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "Hi, I ordered two books last"
            + " week and only one has arrived. The order number is 40-118-2207. Where is the"
            + " other one?"))
        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", "Let me look that up."))
            .add(new JsonObject().put("type", "tool_use").put("id", "toolu_01Xq7MfR2bK9dT")
                .put("name", "get_order")
                .put("input", new JsonObject().put("order_id", "40-118-2207")))))
        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
            .add(new JsonObject().put("type", "tool_result")
                .put("tool_use_id", "toolu_01Xq7MfR2bK9dT").put("content", orderLookup()))
            .add(new JsonObject().put("type", "text").put("text", "Can you tell me when the"
                + " second one will come, and whether I can still cancel it?"))));
    return new JsonObject()
        .put("model", CLIENT_MODEL)
        .put("max_tokens", 1024)
        .put("system", SYSTEM_PROMPT)
        .put("messages", messages)
        .put("tools", new JsonArray()
            .add(new JsonObject().put("name", "get_order")
                .put("description", "Look up an order by its number.")
                .put("input_schema", schema(new JsonObject()
                    .put("order_id", stringSchema("The order number, NN-NNN-NNNN.")), "order_id")))
            .add(new JsonObject().put("name", "cancel_item")
                .put("description", "Cancel one item of an order that has not shipped.")
                .put("input_schema", schema(new JsonObject()
                    .put("order_id", stringSchema("The order number."))
                    .put("isbn", stringSchema("The ISBN of the item to cancel.")),
                    "order_id", "isbn"))))
        .put("tool_choice", new JsonObject().put("type", "auto"))
        .put("temperature", 0.4)
        .put("metadata", new JsonObject().put("user_id", "customer-81723"))
        .put("stream", true);
  }

  /**
   * A streamed Anthropic answer as {@code (event name, JSON payload)} pairs, the way Anthropic
   * names every event after its payload's type.
   */
  static List<String[]> anthropicEvents() {
    List<String[]> out = new ArrayList<>(ANTHROPIC_EVENTS);
    JsonObject startUsage = anthropicUsage(1_184, 1);
    out.add(event(new JsonObject().put("type", "message_start").put("message", new JsonObject()
        .put("model", ANTHROPIC_MODEL)
        .put("id", MESSAGE_ID)
        .put("type", "message")
        .put("role", "assistant")
        .put("content", new JsonArray())
        .putNull("stop_reason")
        .putNull("stop_sequence")
        .put("usage", startUsage))));
    out.add(event(new JsonObject().put("type", "content_block_start").put("index", 0)
        .put("content_block", new JsonObject().put("type", "text").put("text", ""))));
    out.add(event(new JsonObject().put("type", "ping")));
    for (String text : deltas()) {
      out.add(event(new JsonObject().put("type", "content_block_delta").put("index", 0)
          .put("delta", new JsonObject().put("type", "text_delta").put("text", text))));
    }
    out.add(event(new JsonObject().put("type", "content_block_stop").put("index", 0)));
    out.add(event(new JsonObject().put("type", "message_delta")
        .put("delta", new JsonObject().put("stop_reason", "end_turn").putNull("stop_sequence"))
        .put("usage", new JsonObject()
            .put("input_tokens", 160)
            .put("cache_creation_input_tokens", 0)
            .put("cache_read_input_tokens", 1_024)
            .put("output_tokens", 97))));
    out.add(event(new JsonObject().put("type", "message_stop")));
    return out;
  }

  private static String[] event(JsonObject data) {
    return new String[] {data.getString("type"), data.encode()};
  }

  /**
   * An Anthropic {@code usage} object with the cache breakdown and service fields Anthropic
   * sends; {@code input} excludes the 1,024 tokens read from the cache.
   */
  static JsonObject anthropicUsage(long input, long output) {
    return new JsonObject()
        .put("input_tokens", input - 1_024)
        .put("cache_creation_input_tokens", 0)
        .put("cache_read_input_tokens", 1_024)
        .put("cache_creation", new JsonObject()
            .put("ephemeral_5m_input_tokens", 0)
            .put("ephemeral_1h_input_tokens", 0))
        .put("output_tokens", output)
        .put("service_tier", "standard");
  }

  /** A complete (non-streamed) Anthropic message of the same answer. */
  static JsonObject anthropicMessage() {
    return new JsonObject()
        .put("model", ANTHROPIC_MODEL)
        .put("id", MESSAGE_ID)
        .put("type", "message")
        .put("role", "assistant")
        .put("content", new JsonArray().add(new JsonObject().put("type", "text")
            .put("text", ANSWER)))
        .put("stop_reason", "end_turn")
        .putNull("stop_sequence")
        .put("usage", anthropicUsage(1_184, 97));
  }

  /** Deterministic stand-ins for OpenAI's random-length padding, 1 to 12 characters. */
  private static String padding(int n) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    long state = 0x9E3779B97F4A7C15L * (n + 1);
    int length = 1 + (int) ((state >>> 33) % 12);
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      state = state * 6364136223846793005L + 1442695040888963407L;
      out.append(alphabet.charAt((int) ((state >>> 33) % alphabet.length())));
    }
    return out.toString();
  }
}
