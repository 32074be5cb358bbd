package org.exportpipeline.harness.contract;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A text model's ends as export recorded them (the manifest's text section): the tokenizer file's bytes
 * and its settings, the postprocess, the parity rules of the answers, and the text cases. Read through
 * {@link Manifest#text()}, every file checked against its record first. Immutable, so thread-safe.
 */
public record TextContract(byte[] tokenizerJson, Settings settings, Postprocess postprocess, Parity.Spec parity, List<TextCase> cases) {

  /** How texts become model inputs, as exporters/text/tokenize.py encodes them. */
  public record Settings(String tokenizers, int maxLength, int minLength, int maxBatch, String truncation, String paddingSide, long padId,
      boolean addSpecialTokens, boolean pairs, Map<String, String> fills, int maxTextBytes) {}

  /** The chain from one model output to the answers (exporters/text/postprocess.py). */
  public record Postprocess(String output, List<String> steps, int k, Optional<List<String>> labels, List<String> answers) {}

  /**
   * One recorded batch: its corpus labels, its texts (a pair is two), the model inputs export's tokenizer
   * gave (by input name, [row][token]), and the answers judged against (the float64 reference's).
   */
  public record TextCase(String name, List<String> labels, List<List<String>> items, Map<String, long[][]> inputs,
      Map<String, Tensor> reference) {}

  static TextContract parse(JsonObject text, byte[] tokenizerJson, JsonObject casesFile) throws ContractException {
    JsonObject t = text.getAsJsonObject("tokenizer");
    Map<String, String> fills = new LinkedHashMap<>();
    t.getAsJsonObject("fills").entrySet().forEach(e -> fills.put(e.getKey(), e.getValue().getAsString()));
    Settings settings = new Settings(t.get("tokenizers").getAsString(), t.get("max_length").getAsInt(), t.get("min_length").getAsInt(),
        t.get("max_batch").getAsInt(), t.get("truncation").getAsString(), t.get("padding_side").getAsString(), t.get("pad_id").getAsLong(),
        t.get("add_special_tokens").getAsBoolean(), t.get("pairs").getAsBoolean(), fills, t.get("max_text_bytes").getAsInt());
    JsonObject p = text.getAsJsonObject("postprocess");
    List<String> answers = strings(text.getAsJsonArray("answers"));
    Postprocess postprocess = new Postprocess(p.get("output").getAsString(), strings(p.getAsJsonArray("steps")),
        p.has("k") ? p.get("k").getAsInt() : 0, p.has("labels") ? Optional.of(strings(p.getAsJsonArray("labels"))) : Optional.empty(), answers);
    List<TextCase> cases = new ArrayList<>();
    for (JsonElement element : casesFile.getAsJsonArray("cases")) {
      JsonObject c = element.getAsJsonObject();
      List<List<String>> items = new ArrayList<>();
      for (JsonElement item : c.getAsJsonArray("items")) {
        items.add(item.isJsonArray() ? strings(item.getAsJsonArray()) : List.of(item.getAsString()));
      }
      Map<String, long[][]> inputs = new LinkedHashMap<>();
      c.getAsJsonObject("inputs").entrySet().forEach(e -> inputs.put(e.getKey(), longs(e.getValue().getAsJsonArray())));
      JsonObject judged = c.has("reference") ? c.getAsJsonObject("reference") : c.getAsJsonObject("outputs");
      Map<String, Tensor> reference = new LinkedHashMap<>();
      for (String name : answers) {
        reference.put(name, tensor(name, judged.getAsJsonArray(name)));
      }
      cases.add(new TextCase(c.get("name").getAsString(), strings(c.getAsJsonArray("labels")), items, inputs, reference));
    }
    return new TextContract(tokenizerJson, settings, postprocess, Parity.Spec.fromJson(text.getAsJsonObject("parity"), answers), cases);
  }

  private static List<String> strings(JsonArray array) {
    List<String> strings = new ArrayList<>();
    array.forEach(e -> strings.add(e.getAsString()));
    return List.copyOf(strings);
  }

  private static long[][] longs(JsonArray rows) {
    long[][] values = new long[rows.size()][];
    for (int r = 0; r < values.length; r++) {
      JsonArray row = rows.get(r).getAsJsonArray();
      values[r] = new long[row.size()];
      for (int i = 0; i < values[r].length; i++) {
        values[r][i] = row.get(i).getAsLong();
      }
    }
    return values;
  }

  /** A (rows, width) answer as float64 (a vector) or int64 (top_k indices): all integers means top_k. */
  private static Tensor tensor(String name, JsonArray rows) {
    int width = rows.isEmpty() ? 0 : rows.get(0).getAsJsonArray().size();
    boolean indices = name.equals("top_k");
    ByteBuffer data = ByteBuffer.allocateDirect(rows.size() * width * 8).order(ByteOrder.nativeOrder());
    for (JsonElement row : rows) {
      for (JsonElement value : row.getAsJsonArray()) {
        if (indices) {
          data.putLong(value.getAsLong());
        } else {
          data.putDouble(value.getAsDouble());
        }
      }
    }
    data.flip();
    return new Tensor(name, indices ? Tensor.DType.INT64 : Tensor.DType.FLOAT64, new long[] {rows.size(), width}, data);
  }
}
