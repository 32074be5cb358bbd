package org.exportpipeline.harness.contract;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The manifest's structure: exporters/contract/manifest.schema.json, the very file the Python reader validates
 * against (the pom puts it into the core jar). A violation is one line naming the field, worded as
 * exporters/contract/manifest.py words it, so both readers refuse a manifest alike. Thread-safe: the compiled
 * schema is immutable and a validation keeps its state to itself. It is also the one source of the facts both
 * readers share: the schema version, the size limit and the statuses whose files were written.
 */
final class ManifestSchema {
  // Beside this class: pom.xml places the schema in the contract package's folder of the core jar.
  private static final String RESOURCE = "manifest.schema.json";
  private static final String TEXT = load();
  private static final Schema SCHEMA = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(TEXT);
  private static final JsonObject DOCUMENT = JsonParser.parseString(TEXT).getAsJsonObject();
  static final int VERSION = DOCUMENT.getAsJsonObject("properties").getAsJsonObject("schema_version").get("const").getAsInt();
  static final long MAX_BYTES = DOCUMENT.getAsJsonObject("$defs").getAsJsonObject("manifest_bytes").get("maximum").getAsLong();
  static final Set<String> VERIFIABLE = DOCUMENT.getAsJsonObject("$defs").getAsJsonObject("verifiable").getAsJsonArray("enum")
      .asList().stream().map(status -> status.getAsString()).collect(Collectors.toUnmodifiableSet());

  private ManifestSchema() {}

  private static String load() {
    try (InputStream in = ManifestSchema.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is not in the harness jar: rebuild it with `make jvm` (the pom takes it from exporters/)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Refuses the manifest text read from file unless it has the schema's structure. */
  static void validate(Path file, String text) throws ContractException {
    List<Error> errors;
    try {
      errors = SCHEMA.validate(text, InputFormat.JSON);
    } catch (RuntimeException e) { // the validator's own reader (UncheckedIOException: Invalid input): never past a reader
      throw new ContractException(file + " could not be read as JSON by the schema check (" + Messages.firstLine(e.getMessage())
          + "): the file is damaged or not ours; re-export the model");
    }
    // The shallowest error, as the Python reader's best_match prefers: the field a person would fix first.
    Error error = errors.stream().min(Comparator.comparingInt(e -> e.getInstanceLocation().getNameCount())).orElse(null);
    if (error == null) {
      return;
    }
    String field = dotted(error.getInstanceLocation());
    if ("required".equals(error.getKeyword()) && error.getProperty() != null) {
      String missing = field.isEmpty() ? error.getProperty() : field + "." + error.getProperty();
      throw new ContractException(file + " lacks " + missing + ": the file is damaged or not ours; re-export the model");
    }
    String why = Messages.firstLine(error.getMessage());
    throw new ContractException(file + ": field " + (field.isEmpty() ? "(top level)" : field) + " is malformed ("
        + (why.length() > 160 ? why.substring(0, 160) : why) + "): the file is damaged or not ours; re-export the model");
  }

  /** golden.files.0.sha256, as Python joins a jsonschema error's path. */
  private static String dotted(NodePath path) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < path.getNameCount(); i++) {
      names.add(String.valueOf(path.getElement(i)));
    }
    return String.join(".", names);
  }
}
