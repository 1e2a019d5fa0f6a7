package io.flopex.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.models.responses.Response;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Reading what the OpenAI Responses API answers, on the wire and through the SDK. */
public final class ResponsesEvents {

  /** One typed event of a stream: its {@code event:} name and its data. */
  public record Event(String name, JsonObject data) {}

  private ResponsesEvents() {}

  /** The events of a whole Responses stream, which never ends in {@code [DONE]}. */
  public static List<Event> of(String body) {
    List<Event> events = new ArrayList<>();
    for (String frame : body.split("\n\n")) {
      String name = null;
      String data = null;
      for (String line : frame.split("\n")) {
        if (line.startsWith("event: ")) {
          name = line.substring(7);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      if (data != null) {
        assertThat(data).isNotEqualTo("[DONE]");
        events.add(new Event(name, new JsonObject(data)));
      }
    }
    return events;
  }

  /** The text of every output message of a response, joined. */
  public static String text(Response response) {
    return response.output().stream().flatMap(item -> item.message().stream())
        .flatMap(m -> m.content().stream()).flatMap(c -> c.outputText().stream())
        .map(t -> t.text()).collect(Collectors.joining());
  }
}
