package io.flopex.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a gateway's event stream exactly as it is on the wire, event by event, so tests can
 * check framing, order and endings that an SDK would smooth over. Closing it hangs up.
 */
public final class SseClient implements AutoCloseable {

  private final HttpResponse<InputStream> response;
  private final BufferedReader reader;

  private SseClient(HttpResponse<InputStream> response) {
    this.response = response;
    this.reader = new BufferedReader(
        new InputStreamReader(response.body(), StandardCharsets.UTF_8));
  }

  public static SseClient open(Gateway gateway, String body) {
    return open(gateway, body, java.util.UUID.randomUUID().toString());
  }

  /** Opens a stream whose usage row can be found by {@code requestId}. */
  public static SseClient open(Gateway gateway, String body, String requestId) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(gateway.url("/v1/chat/completions")))
        .header("authorization", "Bearer " + gateway.key())
        .header("x-request-id", requestId)
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    try {
      return new SseClient(HttpClient.newHttpClient()
          .send(request, HttpResponse.BodyHandlers.ofInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public int status() {
    return response.statusCode();
  }

  public String header(String name) {
    return response.headers().firstValue(name).orElse(null);
  }

  /** The next event's data, or {@code null} at the end of the stream. */
  public String next() {
    try {
      StringBuilder data = null;
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.isEmpty()) {
          if (data != null) {
            return data.toString();
          }
          continue;
        }
        if (line.startsWith("data:")) {
          String value = line.substring(5).startsWith(" ") ? line.substring(6) : line.substring(5);
          data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
        }
      }
      return data == null ? null : data.toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every remaining event's data, until the stream ends. */
  public List<String> rest() {
    List<String> events = new ArrayList<>();
    String event;
    while ((event = next()) != null) {
      events.add(event);
    }
    return events;
  }

  /** The whole body, for non-stream answers such as errors. */
  public String body() {
    try {
      return new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      response.body().close();
    } catch (IOException ignored) {
      // already gone
    }
  }
}
