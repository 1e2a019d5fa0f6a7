package io.flopex.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Hands an immutable message object to a consumer on the same node without copying it.
 *
 * <p>Request-path messages never cross nodes, so this codec refuses to serialise: a message that
 * somehow reached the wire would be a routing bug, and failing loudly beats a silent copy.
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {

  private final String name;

  private LocalCodec(Class<T> type) {
    this.name = "flopex-local-" + type.getName();
  }

  /** Registers the pass-through codec as the default for every request-path message type. */
  public static void registerAll(EventBus bus) {
    register(bus, RouteRequest.class);
    register(bus, RoutePlan.class);
    register(bus, ProviderCall.class);
    register(bus, ProviderReply.Completed.class);
    register(bus, ProviderReply.Failed.class);
    register(bus, StreamEvent.Chunk.class);
    register(bus, StreamEvent.End.class);
    register(bus, StreamEvent.Failed.class);
    register(bus, CallControl.class);
    register(bus, UsageRecord.class);
    register(bus, AttemptOutcome.class);
    register(bus, CapacityReport.class);
  }

  private static <T> void register(EventBus bus, Class<T> type) {
    try {
      bus.registerDefaultCodec(type, new LocalCodec<>(type));
    } catch (IllegalStateException alreadyRegistered) {
      // a second node in the same Vert.x instance (tests do this) shares the codecs
    }
  }

  @Override
  public void encodeToWire(Buffer buffer, T message) {
    throw new UnsupportedOperationException(name + " messages stay on the node that sent them");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(name + " messages stay on the node that sent them");
  }

  @Override
  public T transform(T message) {
    return message;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
