package org.exportpipeline.harness.contract;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Real files for the tests: .npy writing, tree copies, manifest edits that keep hashes honest. */
public final class Folders {
  private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().create();

  private Folders() {}

  public static byte[] npy(String descr, long[] shape, ByteBuffer data) {
    StringBuilder dims = new StringBuilder();
    for (long dim : shape) {
      dims.append(dim).append(", ");
    }
    String header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims.toString().replaceAll(", $", shape.length == 1 ? "," : "") + "), }";
    int padded = (header.length() + 11 + 63) / 64 * 64 - 10; // header + newline, total aligned to 64
    header = header + " ".repeat(padded - header.length() - 1) + "\n";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.writeBytes(new byte[] {(byte) (header.length() & 0xff), (byte) (header.length() >> 8)});
    out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
    byte[] raw = new byte[data.remaining()];
    data.duplicate().get(raw);
    out.writeBytes(raw);
    return out.toByteArray();
  }

  public static byte[] npyFloats(float... values) {
    ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      data.putFloat(value);
    }
    return npy("<f4", new long[] {1, values.length}, data.flip());
  }

  public static byte[] npyDoubles(double... values) {
    ByteBuffer data = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (double value : values) {
      data.putDouble(value);
    }
    return npy("<f8", new long[] {1, values.length}, data.flip());
  }

  public static String sha256(byte[] bytes) {
    return ArtifactFiles.hex(ArtifactFiles.sha256().digest(bytes));
  }

  public static JsonObject fileEntry(Path modelDir, String relative) throws IOException {
    byte[] bytes = Files.readAllBytes(modelDir.resolve(relative));
    JsonObject entry = new JsonObject();
    entry.addProperty("path", relative);
    entry.addProperty("sha256", sha256(bytes));
    entry.addProperty("bytes", bytes.length);
    return entry;
  }

  public static JsonObject manifest(Path modelDir) throws IOException {
    return JsonParser.parseString(Files.readString(modelDir.resolve(Manifest.FILE))).getAsJsonObject();
  }

  /** Applies an edit to the manifest and rewrites it; returns the new manifest's sha256. */
  public static String editManifest(Path modelDir, Consumer<JsonObject> edit) throws IOException {
    JsonObject json = manifest(modelDir);
    edit.accept(json);
    byte[] bytes = GSON.toJson(json).getBytes(StandardCharsets.UTF_8);
    Files.write(modelDir.resolve(Manifest.FILE), bytes);
    return sha256(bytes);
  }

  /** Re-records every golden file's hash and size, as an exporter would after writing them. */
  public static void rehashGolden(Path modelDir, JsonObject manifest) {
    JsonArray files = new JsonArray();
    for (JsonElement element : manifest.getAsJsonObject("golden").getAsJsonArray("files")) {
      try {
        files.add(fileEntry(modelDir, element.getAsJsonObject().get("path").getAsString()));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    manifest.getAsJsonObject("golden").add("files", files);
  }

  public static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path path : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(path).toString());
        if (Files.isDirectory(path)) {
          Files.createDirectories(target);
        } else {
          Files.copy(path, target);
        }
      }
    }
  }
}
