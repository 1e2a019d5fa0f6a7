package io.flopex;

import io.flopex.cluster.Clustering;
import io.flopex.config.ConfigException;
import io.flopex.config.ConfigLoader;
import io.flopex.config.FlopexConfig;
import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar flopex.jar [--config FILE]}: reads the YAML configuration ({@code
 * conf/flopex.yaml} when present), applies the {@code FLOPEX_*} environment variables, and runs
 * a node until it receives SIGTERM or SIGINT.
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  private static final Path DEFAULT_CONFIG = Path.of("conf", "flopex.yaml");
  private static final String USAGE = "Usage: java -jar flopex.jar [--config FILE] [--cluster]";

  private Main() {}

  public static void main(String[] args) {
    String logFormat = System.getProperty("FLOPEX_LOG_FORMAT", System.getenv("FLOPEX_LOG_FORMAT"));
    if (logFormat != null && !logFormat.equals("text") && !logFormat.equals("json")) {
      // Logback would send every line to an appender that does not exist: nothing would show.
      System.err.println("FLOPEX_LOG_FORMAT must be 'text' or 'json', not '" + logFormat + "'.");
      System.exit(2);
    }
    Path configFile = null;
    boolean cluster = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--cluster")) {
        cluster = true;
      } else if (args[i].equals("--config") && i + 1 < args.length) {
        configFile = Path.of(args[++i]);
      } else if (args[i].startsWith("--config=")) {
        configFile = Path.of(args[i].substring("--config=".length()));
      } else if (args[i].equals("--help") || args[i].equals("-h")) {
        System.out.println(USAGE);
        return;
      } else {
        System.err.println("Unknown argument '" + args[i] + "'. " + USAGE);
        System.exit(2);
      }
    }
    if (configFile != null && !Files.isRegularFile(configFile)) {
      System.err.println("Configuration file " + configFile + " does not exist.");
      System.exit(2);
    }
    if (configFile == null && Files.isRegularFile(DEFAULT_CONFIG)) {
      configFile = DEFAULT_CONFIG;
    }
    FlopexConfig config;
    Vertx reader = Vertx.vertx();
    try {
      JsonObject doc = read(reader, configFile).await(30, TimeUnit.SECONDS);
      if (cluster) {
        JsonObject section = doc.getValue("cluster") instanceof JsonObject c ? c
            : new JsonObject();
        doc.put("cluster", section.put("enabled", true));
      }
      config = new ConfigLoader(System::getenv).load(doc);
      LOG.info("Configuration: {}", configFile == null ? "built-in defaults" : configFile);
    } catch (ConfigException e) {
      LOG.error("Invalid configuration: {}", e.getMessage());
      System.exit(2);
      return;
    } catch (Exception e) {
      LOG.error("Could not read the configuration: {}", e.getMessage(), e);
      System.exit(2);
      return;
    } finally {
      reader.close();
    }
    Vertx vertx = null;
    Flopex flopex;
    try {
      vertx = Clustering.vertx(config).await(60, TimeUnit.SECONDS);
      flopex = Flopex.start(vertx, config, Clock.systemUTC()).await(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("Flopex failed to start: {}", e.getMessage(), e);
      if (vertx != null) {
        vertx.close();
      }
      System.exit(1);
      return;
    }
    Vertx node = vertx;
    Flopex running = flopex;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("Shutting down");
      try {
        running.close().compose(v -> node.close())
            .await(running.shutdownBudgetMs(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        LOG.warn("Shutdown did not complete in time: {}", e.toString());
      } finally {
        running.stopDatabase();
      }
    }, "flopex-shutdown"));
  }

  /** Reads the YAML file through Vert.x Config; no file means an empty document. */
  static Future<JsonObject> read(Vertx vertx, Path file) {
    if (file == null) {
      return Future.succeededFuture(new JsonObject());
    }
    ConfigStoreOptions store = new ConfigStoreOptions()
        .setType("file")
        .setFormat("yaml")
        .setConfig(new JsonObject().put("path", file.toAbsolutePath().toString()));
    ConfigRetriever retriever =
        ConfigRetriever.create(vertx, new ConfigRetrieverOptions().addStore(store)
            .setScanPeriod(-1));
    return retriever.getConfig().eventually(retriever::close);
  }
}
