package org.exportpipeline.harness.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The decisive line of a runtime's failure, by the vectors tests/test_causes.py holds Python's rule to. */
class MessagesTest {
  private static final Path VECTORS = Path.of("../tests/contract_vectors/failure_lines.json");

  @TestFactory
  Stream<DynamicTest> theSharedVectorsGiveTheSameLineInJava() throws IOException {
    return StreamSupport.stream(JsonParser.parseString(Files.readString(VECTORS)).getAsJsonArray().spliterator(), false)
        .map(JsonElement::getAsJsonObject)
        .map((JsonObject v) -> DynamicTest.dynamicTest(v.get("case").getAsString(),
            () -> assertEquals(v.get("line").getAsString(), Messages.decisive(v.get("message").getAsString()))));
  }

  @Test
  void theLineIsPrefixedWithTheExceptionsClass() {
    assertEquals("IllegalStateException: ExecuTorch forward failed: InvalidArgument (error 0x12)",
        Messages.decisiveLine(new IllegalStateException("ExecuTorch forward failed: InvalidArgument (error 0x12)")));
    assertEquals("NullPointerException: (no message)", Messages.decisiveLine(new NullPointerException()));
  }
}
