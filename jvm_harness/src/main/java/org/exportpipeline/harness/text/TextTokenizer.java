package org.exportpipeline.harness.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.exportpipeline.harness.InvalidInputException;
import org.exportpipeline.harness.ModelException;
import org.exportpipeline.harness.ModelUnavailableException;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.contract.TextContract;

/**
 * Texts to model inputs with DJL's binding of the Rust tokenizers library, as the manifest's text.tokenizer
 * says: the same steps as exporters/text/tokenize.py. The tokenizer encodes (normalization, special tokens,
 * truncation to max_length); padding is this class's own, with the manifest's pad id and side (DJL's
 * padding once used [PAD]'s id whatever the file said, deepjavalibrary/djl#2669). Texts are checked first:
 * an unpaired UTF-16 surrogate, which the binding would drop silently, or a text over the byte budget is
 * an {@link InvalidInputException}.
 *
 * <p>DJL's tokenizer calls home when it is built (EC2's metadata service on every host, then DJL's telemetry
 * bucket on EC2) unless OPT_OUT_TRACKING is true. The file comes from the artifact, so the first TextTokenizer
 * sets that system property when neither it nor the environment variable is set (a service that wants DJL's
 * telemetry sets OPT_OUT_TRACKING=false).
 *
 * <p>Thread-safe: the Rust tokenizer is immutable once configured, and close() waits for encodings in flight
 * (the native tokenizer must not be freed under one); later calls are refused.
 */
public final class TextTokenizer implements AutoCloseable {
  static final String TRACKING = "OPT_OUT_TRACKING"; // DJL's opt-out, read from the environment or a property
  private final TextContract.Settings settings;
  private final HuggingFaceTokenizer tokenizer;
  private final ReentrantReadWriteLock lifetime = new ReentrantReadWriteLock();
  private boolean closed;

  /** One encoded batch: the model inputs by name (int64, [rows, seq]) and the attention mask pooling reads. */
  public record Batch(Map<String, Tensor> inputs, long[][] mask) {}

  public TextTokenizer(TextContract contract) throws IOException {
    this.settings = contract.settings();
    optOutOfTracking();
    this.tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(contract.tokenizerJson()), Map.of(
        "padding", "false", "truncation", "true", "maxLength", Integer.toString(settings.maxLength()),
        "modelMaxLength", Integer.toString(settings.maxLength()), "addSpecialTokens", Boolean.toString(settings.addSpecialTokens())));
  }

  private static synchronized void optOutOfTracking() {
    if (System.getenv(TRACKING) == null && System.getProperty(TRACKING) == null) {
      System.setProperty(TRACKING, "true");
    }
  }

  /** The Rust tokenizers version inside DJL's binding, e.g. "0.21.0-0.35.1". */
  public String version() {
    return tokenizer.getVersion();
  }

  public TextContract.Settings settings() {
    return settings;
  }

  /** One batch of single texts, at most the model's batch max. */
  public Batch encode(List<String> texts) throws ModelException {
    check(texts.size(), false);
    for (int i = 0; i < texts.size(); i++) {
      refuse(problem(i, texts.get(i), settings.maxTextBytes()));
    }
    return encoded(() -> tokenizer.batchEncode(texts, settings.addSpecialTokens(), false));
  }

  /** One batch of (first, second) pairs, for a model whose tokenizer takes pairs. */
  public Batch encodePairs(List<TextPair> pairs) throws ModelException {
    check(pairs.size(), true);
    PairList<String, String> given = new PairList<>();
    for (int i = 0; i < pairs.size(); i++) {
      TextPair pair = pairs.get(i);
      int index = i;
      refuse(problem(index, pair.first(), settings.maxTextBytes()).or(() -> problem(index, pair.second(), settings.maxTextBytes())));
      given.add(pair.first(), pair.second());
    }
    return encoded(() -> tokenizer.batchEncode(given, settings.addSpecialTokens(), false));
  }

  private Batch encoded(Supplier<Encoding[]> encode) throws ModelUnavailableException {
    lifetime.readLock().lock();
    try {
      if (closed) {
        throw new ModelUnavailableException(ModelUnavailableException.Reason.CLOSED, "the text model was closed: open it again");
      }
      return pad(encode.get());
    } finally {
      lifetime.readLock().unlock();
    }
  }

  private void check(int count, boolean pairs) throws InvalidInputException {
    if (count == 0) {
      throw new InvalidInputException("no texts given: send at least one");
    }
    if (pairs != settings.pairs()) {
      throw new InvalidInputException(pairs ? "this model takes single texts, not pairs" : "this model takes (first, second) pairs");
    }
    if (count > settings.maxBatch()) {
      throw new InvalidInputException(count + " texts in one batch, over the model's batch max " + settings.maxBatch()
          + ": split them (TextModel does)");
    }
  }

  private static void refuse(Optional<String> problem) throws InvalidInputException {
    if (problem.isPresent()) {
      throw new InvalidInputException(problem.get());
    }
  }

  /** Why one text cannot be encoded (as exporters/text/tokenize.py words it), or empty. */
  static Optional<String> problem(int index, String text, int maxBytes) {
    if (text == null) {
      return Optional.of("text " + index + " is null, not a string");
    }
    long bytes = 0;
    int codePoint = 0; // "char" counts code points, as Python's str indexes them
    for (int at = 0; at < text.length(); at++, codePoint++) {
      char c = text.charAt(at);
      if (Character.isHighSurrogate(c) && at + 1 < text.length() && Character.isLowSurrogate(text.charAt(at + 1))) {
        bytes += 4;
        at++;
      } else if (Character.isSurrogate(c)) {
        return Optional.of(String.format("text %d holds an unpaired UTF-16 surrogate (U+%04X) at char %d: send valid Unicode "
            + "(a tokenizer would drop or replace it silently)", index, (int) c, codePoint));
      } else {
        bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
    }
    if (bytes > maxBytes) {
      return Optional.of("text " + index + " is " + bytes + " bytes of UTF-8, over the model's max_text_bytes " + maxBytes + ": shorten it");
    }
    return Optional.empty();
  }

  private Batch pad(Encoding[] encodings) {
    int seq = settings.minLength();
    for (Encoding encoding : encodings) {
      seq = Math.max(seq, encoding.getIds().length);
    }
    int rows = encodings.length;
    long[][] ids = new long[rows][seq];
    long[][] mask = new long[rows][seq];
    long[][] types = new long[rows][seq];
    for (int r = 0; r < rows; r++) {
      long[] given = encodings[r].getIds();
      long[] typeIds = encodings[r].getTypeIds();
      int start = settings.paddingSide().equals("right") ? 0 : seq - given.length;
      Arrays.fill(ids[r], settings.padId());
      for (int i = 0; i < given.length; i++) {
        ids[r][start + i] = given[i];
        mask[r][start + i] = 1;
        types[r][start + i] = typeIds[i];
      }
    }
    Map<String, long[][]> fields = Map.of("ids", ids, "attention_mask", mask, "type_ids", types);
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    settings.fills().forEach((name, field) -> inputs.put(name, int64(name, fields.get(field))));
    return new Batch(inputs, mask);
  }

  /** A (rows, width) int64 tensor of equal-length rows. */
  static Tensor int64(String name, long[][] values) {
    int width = values.length == 0 ? 0 : values[0].length;
    ByteBuffer data = ByteBuffer.allocateDirect(values.length * width * Long.BYTES).order(ByteOrder.nativeOrder());
    for (long[] row : values) {
      for (long value : row) {
        data.putLong(value);
      }
    }
    data.flip();
    return new Tensor(name, Tensor.DType.INT64, new long[] {values.length, width}, data);
  }

  @Override
  public void close() {
    lifetime.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        tokenizer.close();
      }
    } finally {
      lifetime.writeLock().unlock();
    }
  }
}
