package io.flopex.translate;

import io.flopex.bus.Usage;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Translates the events of one upstream stream, one at a time as they arrive, into the events
 * the client is owed. It keeps what it needs to finish the stream correctly (which choices have
 * finished, the usage reported so far) and never buffers the stream.
 */
public interface StreamTranslator {

  /** The client events for one upstream event; often one, sometimes none or several. */
  List<ClientEvent> accept(String event, JsonObject data);

  /** Whether anything a client would see as output has been produced. */
  boolean hasContent();

  /** The events that close a cleanly finished stream, given the usage to report. */
  List<ClientEvent> end(Usage usage);

  /** The in-band event that ends a stream which failed after content was sent. */
  ClientEvent failure(String code, String message);

  /** The usage upstream reported, or {@code null} if it has not. */
  Usage reportedUsage();

  /** Characters of output delivered so far, for estimating usage upstream never reported. */
  long deliveredChars();
}
