package io.flopex.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The wire format a provider speaks. */
public enum ProviderKind {
  OPENAI("openai"),
  OPENAI_COMPATIBLE("openai-compatible"),
  ANTHROPIC("anthropic"),
  GEMINI("gemini");

  private final String configName;

  ProviderKind(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }

  public static ProviderKind fromConfig(String value, String key) {
    for (ProviderKind kind : values()) {
      if (kind.configName.equals(value)) {
        return kind;
      }
    }
    throw new ConfigException(key + ": unknown provider kind '" + value + "', expected one of "
        + Arrays.stream(values()).map(ProviderKind::configName).collect(Collectors.joining(", ")));
  }
}
