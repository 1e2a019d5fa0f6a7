package io.flopex.config;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The request parameters an endpoint can declare it supports, for OpenRouter's {@code
 * provider.require_parameters}: the optional fields of a Chat Completions request that change
 * what the model generates or how it may answer, named as that API names them.
 *
 * <p>Fields that only identify or describe the request ({@code model}, {@code messages}, {@code
 * stream}, {@code stream_options}, {@code user}, {@code metadata}, {@code store}, {@code
 * service_tier}, {@code prompt_cache_key}, {@code safety_identifier}) and the gateway's own
 * ({@code models}, {@code provider}) are not parameters. Synonyms count as one parameter, so an
 * endpoint that declares {@code max_tokens} also serves requests that say {@code
 * max_completion_tokens}.
 */
public final class RequestParameters {

  /** Every parameter name, each under its one canonical spelling. */
  public static final Set<String> NAMES = Set.of(
      "tools", "tool_choice", "parallel_tool_calls", "response_format", "temperature", "top_p",
      "top_k", "min_p", "top_a", "frequency_penalty", "presence_penalty", "repetition_penalty",
      "seed", "stop", "max_tokens", "logit_bias", "logprobs", "top_logprobs", "reasoning", "n",
      "web_search_options", "verbosity", "prediction", "modalities", "audio");

  /** Other spellings of the same parameters: newer or older names for one setting. */
  static final Map<String, String> SYNONYMS = Map.of(
      "max_completion_tokens", "max_tokens",
      "reasoning_effort", "reasoning",
      "functions", "tools",
      "function_call", "tool_choice");

  private RequestParameters() {}

  /** The canonical name of a request field that is a parameter; {@code null} for any other. */
  public static String canonical(String field) {
    String name = SYNONYMS.getOrDefault(field, field);
    return NAMES.contains(name) ? name : null;
  }

  /** Every name accepted in configuration, synonyms included, sorted for messages. */
  static Set<String> accepted() {
    Set<String> all = new TreeSet<>(NAMES);
    all.addAll(SYNONYMS.keySet());
    return all;
  }
}
