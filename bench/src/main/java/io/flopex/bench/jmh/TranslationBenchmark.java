package io.flopex.bench.jmh;

import io.flopex.config.ProviderKind;
import io.flopex.translate.ClientFormat;
import io.flopex.translate.Translated;
import io.flopex.translate.Translator;
import io.flopex.translate.Translators;
import io.flopex.translate.responses.ResponsesToChat;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Translating whole requests and answers between client dialects and provider wire formats,
 * through the translators {@link Translators} hands the ingress. Requests are a tool-using
 * conversation (system prompt, user turn, tool call, tool result of about 300 bytes, follow-up
 * question, two function tools; about 2 KB as JSON); answers are a 97-token text completion
 * with usage. Inputs are decoded once, as the ingress holds them after reading them off the
 * wire; translators only read them, so one copy serves every call. Scores are per request or
 * answer.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m", "-XX:+UseG1GC"})
public class TranslationBenchmark {

  private final Translator chatToOpenAi =
      Translators.forPair(ClientFormat.OPENAI_CHAT, ProviderKind.OPENAI);
  private final Translator chatToAnthropic =
      Translators.forPair(ClientFormat.OPENAI_CHAT, ProviderKind.ANTHROPIC);
  private final Translator messagesToOpenAi =
      Translators.forPair(ClientFormat.ANTHROPIC_MESSAGES, ProviderKind.OPENAI);
  private final Translator responsesToOpenAi =
      Translators.forPair(ClientFormat.OPENAI_RESPONSES, ProviderKind.OPENAI);
  private final Translator responsesToAnthropic =
      Translators.forPair(ClientFormat.OPENAI_RESPONSES, ProviderKind.ANTHROPIC);

  private JsonObject chatRequest;
  private JsonObject messagesRequest;
  private JsonObject responsesRequest;
  private JsonObject responsesAsChat;
  private JsonObject openAiCompletion;
  private JsonObject anthropicMessage;
  private String upstreamModel;
  private String clientModel;
  private String inputsAtStart;

  @Setup
  public void setUp() {
    chatRequest = Payloads.decoded(Payloads.chatRequest());
    messagesRequest = Payloads.decoded(Payloads.messagesRequest());
    responsesRequest = Payloads.decoded(Payloads.responsesRequest());
    responsesAsChat = ResponsesToChat.toChat(responsesRequest, new ArrayList<>());
    openAiCompletion = Payloads.decoded(Payloads.openAiCompletion());
    anthropicMessage = Payloads.decoded(Payloads.anthropicMessage());
    upstreamModel = Payloads.OPENAI_MODEL;
    clientModel = Payloads.CLIENT_MODEL;
    inputsAtStart = inputs();
  }

  /** One copy of each input serves every call only because translators never change it. */
  @TearDown
  public void checkInputsUnchanged() {
    if (!inputs().equals(inputsAtStart)) {
      throw new IllegalStateException("a translator changed its input; the scores are void");
    }
  }

  private String inputs() {
    return chatRequest.encode() + messagesRequest.encode() + responsesRequest.encode()
        + responsesAsChat.encode() + openAiCompletion.encode() + anthropicMessage.encode();
  }

  // ---- Requests: the client's body to the body sent upstream -------------------------------

  /** Chat Completions to OpenAI: a shallow copy with the model, token limit and usage option. */
  @Benchmark
  public JsonObject requestChatToOpenAi() {
    return chatToOpenAi.request(chatRequest, upstreamModel, true, new ArrayList<>(0));
  }

  /** Chat Completions to Anthropic Messages: system blocks, tool_use and tool_result blocks. */
  @Benchmark
  public JsonObject requestChatToAnthropic() {
    return chatToAnthropic.request(chatRequest, Payloads.ANTHROPIC_MODEL, true,
        new ArrayList<>(0));
  }

  /** Anthropic Messages to OpenAI Chat Completions. */
  @Benchmark
  public JsonObject requestMessagesToOpenAi() {
    return messagesToOpenAi.request(messagesRequest, upstreamModel, true, new ArrayList<>(0));
  }

  /**
   * Responses to OpenAI, both steps: the Responses request read as Chat Completions (done once,
   * when the request is validated) and the Chat Completions body for the provider.
   */
  @Benchmark
  public JsonObject requestResponsesToOpenAi() {
    List<String> warnings = new ArrayList<>(0);
    JsonObject chat = ResponsesToChat.toChat(responsesRequest, warnings);
    return responsesToOpenAi.request(chat, upstreamModel, true, warnings);
  }

  /** Responses to Anthropic, from the request already read as Chat Completions. */
  @Benchmark
  public JsonObject requestResponsesToAnthropic() {
    return responsesToAnthropic.request(responsesAsChat, Payloads.ANTHROPIC_MODEL, true,
        new ArrayList<>(0));
  }

  // ---- Answers: the provider's body to the body the client gets ----------------------------

  /** An OpenAI chat completion passed through: renamed model, vendor fields removed, usage. */
  @Benchmark
  public Translated responseOpenAiToChat() {
    return chatToOpenAi.response(openAiCompletion, clientModel);
  }

  /** An Anthropic message as an OpenAI chat completion. */
  @Benchmark
  public Translated responseAnthropicToChat() {
    return chatToAnthropic.response(anthropicMessage, clientModel);
  }

  /** An OpenAI chat completion as an Anthropic message. */
  @Benchmark
  public Translated responseOpenAiToMessages() {
    return messagesToOpenAi.response(openAiCompletion, clientModel);
  }

  /** An OpenAI chat completion as a Responses {@code response} echoing the request. */
  @Benchmark
  public Translated responseOpenAiToResponses() {
    return responsesToOpenAi.response(openAiCompletion, clientModel, responsesRequest);
  }

  /** An Anthropic message as a Responses {@code response}, by way of Chat Completions. */
  @Benchmark
  public Translated responseAnthropicToResponses() {
    return responsesToAnthropic.response(anthropicMessage, clientModel, responsesRequest);
  }
}
