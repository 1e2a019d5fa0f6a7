package io.flopex.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TimeOrderedIdsTest {

  @Test
  void versionSevenWithTheMillisecondInFront() {
    long at = 1_796_422_839_123L;
    UUID id = TimeOrderedIds.at(at);

    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(at);
    // PostgreSQL orders uuid values by their text, byte after byte.
    assertThat(id.toString()).startsWith(String.format("%08x-%04x", at >>> 16, at & 0xFFFF));
  }

  @Test
  void laterIdsSortAfterEarlierOnesAndNoneRepeat() {
    List<String> ids = new ArrayList<>();
    Set<UUID> seen = new HashSet<>();
    for (long ms = 1_700_000_000_000L; ms < 1_700_000_000_000L + 1_000; ms++) {
      for (int i = 0; i < 50; i++) {
        UUID id = TimeOrderedIds.at(ms);
        assertThat(seen.add(id)).isTrue();
        if (i == 0) {
          ids.add(id.toString());
        }
      }
    }
    assertThat(ids).isSorted();
    assertThat(TimeOrderedIds.next().version()).isEqualTo(7);
  }
}
