package org.exportpipeline.harness.text;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.exportpipeline.harness.Model;
import org.exportpipeline.harness.ModelException;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.TextContract;

/**
 * What a text service embeds: strings in, answers out, through one exported format of a text model folder.
 *
 * <pre>{@code
 * try (TextModel model = TextModel.open(Path.of("artifacts/encoder"), "onnx", Model.Options.defaults())) {
 *   float[][] embeddings = model.embed(List.of("The VPN drops", "Reset my password"));
 * }
 * }</pre>
 *
 * The tokenizer and the postprocess are those export proved (the manifest's text section), the files checked
 * as {@link Model#open} checks its own. Texts of different lengths are padded per batch; more texts than the
 * model's batch max run as several batches. Errors are {@link ModelException}s, as {@link Model}'s: a text
 * over the byte budget, an unpaired surrogate, too many texts or none is an
 * {@link org.exportpipeline.harness.InvalidInputException}. Thread-safe.
 */
public final class TextModel implements AutoCloseable {
  private final Model model;
  private final TextPipeline pipeline;

  private TextModel(Model model, TextPipeline pipeline) {
    this.model = model;
    this.pipeline = pipeline;
  }

  /** Opens one format of a text model folder: as {@link Model#open}, then its tokenizer. */
  public static TextModel open(Path folder, String format, Model.Options options) throws Exception {
    Model model = Model.open(folder, format, options);
    try {
      return of(model);
    } catch (Exception | Error e) {
      model.close();
      throw e;
    }
  }

  /**
   * Strings in front of a model already open (a service that also takes tensors): the text model then owns it,
   * and its close() closes the model. Throws ContractException when the model declares no text ends.
   */
  public static TextModel of(Model model) throws ContractException, IOException {
    TextContract text = model.manifest().text().orElseThrow(() -> new ContractException(model.manifest().modelDir()
        + ": the model declares no text ends (ModelSpec text=): call it through Model with tensors"));
    return new TextModel(model, new TextPipeline(text, model::run));
  }

  /** Each text's vector: its embedding for an embedder, its class scores for a classifier. */
  public float[][] embed(List<String> texts) throws ModelException {
    return pipeline.answer(texts).vectors();
  }

  /** Each text's best classes, best first (the model's postprocess ends in top_k). */
  public List<List<TextAnswers.Label>> classify(List<String> texts) throws ModelException {
    return labels(pipeline.answer(texts));
  }

  /** Each pair's vector, for a pair model (a cross-encoder's scores). */
  public float[][] embedPairs(List<TextPair> pairs) throws ModelException {
    return pipeline.answerPairs(pairs).vectors();
  }

  public List<List<TextAnswers.Label>> classifyPairs(List<TextPair> pairs) throws ModelException {
    return labels(pipeline.answerPairs(pairs));
  }

  /** Everything the postprocess gives, for texts. */
  public TextAnswers answer(List<String> texts) throws ModelException {
    return pipeline.answer(texts);
  }

  /** Everything the postprocess gives, for pairs. */
  public TextAnswers answerPairs(List<TextPair> pairs) throws ModelException {
    return pipeline.answerPairs(pairs);
  }

  private static List<List<TextAnswers.Label>> labels(TextAnswers answers) {
    List<List<TextAnswers.Label>> labels = new ArrayList<>();
    for (int i = 0; i < answers.size(); i++) {
      labels.add(answers.labels(i));
    }
    return labels;
  }

  /** The model underneath: its runtime, version and manifest. */
  public Model model() {
    return model;
  }

  /** The Rust tokenizers version of the JVM's binding, e.g. "0.21.0-0.35.1". */
  public String tokenizerVersion() {
    return pipeline.tokenizer().version();
  }

  /** Waits for calls in flight, then frees the runtime and the tokenizer. */
  @Override
  public void close() throws Exception {
    try {
      model.close();
    } finally {
      pipeline.close();
    }
  }
}
