package org.exportpipeline.harness.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The text problems of the shared vectors (tests/contract_vectors/text_problems.json), in the Python side's words. */
class TextTokenizerTest {
  private static final Path VECTORS = Path.of("../tests/contract_vectors/text_problems.json");

  @Test
  void textProblemsAreWordedAsThePythonSideWordsThem() throws Exception {
    int seen = 0;
    for (JsonElement element : JsonParser.parseString(Files.readString(VECTORS)).getAsJsonObject().getAsJsonArray("cases")) {
      JsonObject vector = element.getAsJsonObject();
      String expected = vector.get("problem").isJsonNull() ? null : vector.get("problem").getAsString();
      String got = TextTokenizer.problem(vector.get("index").getAsInt(), vector.get("text").getAsString(), vector.get("max_bytes").getAsInt())
          .orElse(null);
      assertEquals(expected, got, vector.get("text").getAsString());
      seen++;
    }
    assertEquals(9, seen);
  }
}
