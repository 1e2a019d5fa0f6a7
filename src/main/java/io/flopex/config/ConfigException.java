package io.flopex.config;

/** A configuration file or variable that Flopex cannot start with; the message names the key. */
public final class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message);
  }
}
