package io.flopex.testing;

import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * HTTP/1.1 over a plain socket, for requests an HTTP client would tidy up or refuse to send: odd
 * path spellings, lying Content-Length headers, bodies that never end. The bytes on the wire are
 * exactly the ones the test wrote. Reads block for at most the socket timeout, so a server that
 * never answers fails the test instead of hanging it.
 */
public final class RawHttp implements AutoCloseable {

  private static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

  /** A response as read off the wire; header names are lower case. */
  public record Response(int status, Map<String, String> headers, String body) {

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final AtomicLong written = new AtomicLong();
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread thread = new Thread(r, "raw-http-writer");
    thread.setDaemon(true);
    return thread;
  });

  private RawHttp(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  public static RawHttp connect(int port) {
    try {
      Socket socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
      return new RawHttp(socket);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends one complete request on a fresh connection and reads its response. */
  public static Response exchange(int port, String request) {
    try (RawHttp http = connect(port)) {
      http.write(request);
      return http.readResponse(request.substring(0, request.indexOf(' ')));
    }
  }

  /**
   * The request line and headers, ending with the blank line. {@code headers} are name, value
   * pairs; a {@code null} value leaves the header out.
   */
  public static String head(String method, String target, String... headers) {
    StringBuilder head = new StringBuilder(method).append(' ').append(target)
        .append(" HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    for (int i = 0; i + 1 < headers.length; i += 2) {
      if (headers[i + 1] != null) {
        head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
      }
    }
    return head.append("\r\n").toString();
  }

  public RawHttp write(String text) {
    return write(text.getBytes(StandardCharsets.UTF_8));
  }

  public RawHttp write(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
      written.addAndGet(bytes.length);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes the chunks on a thread of its own, so that a server answering before the body is
   * complete can be read meanwhile. The future fails once the server stops taking bytes by
   * closing the connection.
   */
  public CompletableFuture<Void> writeInBackground(Iterator<byte[]> chunks) {
    return CompletableFuture.runAsync(() -> {
      while (chunks.hasNext()) {
        write(chunks.next());
      }
    }, writer);
  }

  /** Every byte handed to the socket so far, request head included. */
  public long bytesWritten() {
    return written.get();
  }

  /** Reads one response; the method says whether a body follows (a HEAD answer has none). */
  public Response readResponse(String method) {
    try {
      String statusLine;
      Map<String, String> headers;
      do {
        statusLine = readLine();
        headers = readHeaders();
      } while (statusLine.matches("HTTP/1\\.[01] 1\\d\\d.*"));
      int status = Integer.parseInt(statusLine.split(" ", 3)[1]);
      String body;
      if (method.equalsIgnoreCase("HEAD") || status == 204 || status == 304) {
        body = "";
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = readChunked();
      } else if (headers.containsKey("content-length")) {
        body = new String(readExactly(Integer.parseInt(headers.get("content-length"))),
            StandardCharsets.UTF_8);
      } else {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      return new Response(status, headers, body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads and discards until the server closes the connection. Returns {@code false} if it is
   * still open after the socket timeout; a reset counts as closed.
   */
  public boolean closedByPeer() {
    byte[] sink = new byte[64 * 1024];
    try {
      while (in.read(sink) >= 0) {
        // discard whatever the server still sends before it closes
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    writer.shutdownNow();
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing left to release
    }
  }

  private Map<String, String> readHeaders() throws IOException {
    Map<String, String> headers = new TreeMap<>();
    for (String line = readLine(); !line.isEmpty(); line = readLine()) {
      int colon = line.indexOf(':');
      headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
    return headers;
  }

  private String readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int size = chunkSize(); size > 0; size = chunkSize()) {
      body.write(readExactly(size));
      readLine();
    }
    readHeaders();
    return body.toString(StandardCharsets.UTF_8);
  }

  private int chunkSize() throws IOException {
    String line = readLine();
    int extension = line.indexOf(';');
    return Integer.parseInt((extension < 0 ? line : line.substring(0, extension)).trim(), 16);
  }

  private byte[] readExactly(int length) throws IOException {
    byte[] bytes = in.readNBytes(length);
    if (bytes.length < length) {
      throw new IOException("connection closed after " + bytes.length + " of " + length
          + " body bytes");
    }
    return bytes;
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("connection closed in the middle of a response head");
      }
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.ISO_8859_1);
  }
}
