package org.exportpipeline.harness.text;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.exportpipeline.harness.InvalidInputException;
import org.exportpipeline.harness.ModelException;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.contract.TextContract;

/**
 * Texts in, answers out, around any call that runs the model: the tokenizer, the call, the declared
 * postprocess. {@link TextModel} wraps a {@link org.exportpipeline.harness.Model} in one; the check
 * wraps a runner. Thread-safe when the call is.
 */
public final class TextPipeline implements AutoCloseable {
  /** Runs the model on one batch of inputs. */
  @FunctionalInterface
  public interface Call {
    Map<String, Tensor> run(Map<String, Tensor> inputs) throws ModelException;
  }

  /** The most texts one call takes: it runs them in batches of the model's batch max, one after another. */
  public static final int MAX_TEXTS_PER_CALL = 1024;

  private final TextContract contract;
  private final TextTokenizer tokenizer;
  private final Call call;

  public TextPipeline(TextContract contract, Call call) throws IOException {
    this.contract = contract;
    this.tokenizer = new TextTokenizer(contract);
    this.call = call;
  }

  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  public TextContract contract() {
    return contract;
  }

  /** One encoded batch through the model and the postprocess: "vector" and, with top_k, "top_k". */
  public Map<String, Tensor> run(TextTokenizer.Batch batch) throws ModelException {
    TextContract.Postprocess chain = contract.postprocess();
    Map<String, Tensor> outputs = call.run(batch.inputs());
    return Postprocess.apply(chain, outputs.get(chain.output()), batch.mask());
  }

  /** Any number of single texts (up to {@link #MAX_TEXTS_PER_CALL}), answered in the order given. */
  public TextAnswers answer(List<String> texts) throws ModelException {
    return answerAll(texts, (batch) -> tokenizer.encode(batch));
  }

  /** Any number of pairs, for a model whose tokenizer takes pairs. */
  public TextAnswers answerPairs(List<TextPair> pairs) throws ModelException {
    return answerAll(pairs, (batch) -> tokenizer.encodePairs(batch));
  }

  private interface Encoder<T> {
    TextTokenizer.Batch encode(List<T> batch) throws ModelException;
  }

  private <T> TextAnswers answerAll(List<T> items, Encoder<T> encoder) throws ModelException {
    if (items.size() > MAX_TEXTS_PER_CALL) {
      throw new InvalidInputException(items.size() + " texts in one call, over the " + MAX_TEXTS_PER_CALL + " a call takes: send them in several calls");
    }
    if (items.isEmpty()) {
      encoder.encode(items); // refuses: no texts
    }
    List<float[]> vectors = new ArrayList<>();
    List<long[]> best = new ArrayList<>();
    int size = contract.settings().maxBatch();
    for (int start = 0; start < items.size(); start += size) {
      Map<String, Tensor> answers = run(encoder.encode(items.subList(start, Math.min(items.size(), start + size))));
      Tensor vector = answers.get(Postprocess.VECTOR);
      int width = (int) vector.shape()[1];
      for (int r = 0; r < vector.shape()[0]; r++) {
        float[] row = new float[width];
        vector.data().asFloatBuffer().get(r * width, row);
        vectors.add(row);
      }
      Tensor topK = answers.get(Postprocess.TOP_K);
      if (topK != null) {
        int k = (int) topK.shape()[1];
        for (int r = 0; r < topK.shape()[0]; r++) {
          long[] row = new long[k];
          topK.data().asLongBuffer().get(r * k, row);
          best.add(row);
        }
      }
    }
    return new TextAnswers(vectors, best.isEmpty() ? null : best, contract.postprocess().labels().orElse(null));
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
