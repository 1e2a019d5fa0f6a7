package io.flopex.translate;

import io.flopex.bus.Usage;
import io.vertx.core.json.JsonObject;

/** A complete answer in the client's dialect, and the usage upstream reported for it. */
public record Translated(JsonObject body, Usage usage) {}
