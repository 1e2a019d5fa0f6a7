package io.flopex;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/** Lets tests read a configuration file exactly as {@link Main} does. */
public final class MainAccess {

  private MainAccess() {}

  public static Future<JsonObject> read(Vertx vertx, Path file) {
    return Main.read(vertx, file);
  }
}
