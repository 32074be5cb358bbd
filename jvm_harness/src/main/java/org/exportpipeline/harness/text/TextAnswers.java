package org.exportpipeline.harness.text;

import java.util.ArrayList;
import java.util.List;

/**
 * The answers to a list of texts, in the order given: each text's vector (its embedding, or its class
 * scores) and, where the postprocess ends in top_k, its best classes. Immutable once built, so thread-safe.
 */
public final class TextAnswers {
  /** One class of a text's top k: its index, its name (the index as text where the model names none) and score. */
  public record Label(int index, String name, float score) {}

  private final List<float[]> vectors;
  private final List<long[]> topK;
  private final List<String> labels;

  TextAnswers(List<float[]> vectors, List<long[]> topK, List<String> labels) {
    this.vectors = List.copyOf(vectors);
    this.topK = topK == null ? null : List.copyOf(topK);
    this.labels = labels;
  }

  public int size() {
    return vectors.size();
  }

  /** Text i's vector (a copy). */
  public float[] vector(int i) {
    return vectors.get(i).clone();
  }

  /** Every text's vector, one row per text. */
  public float[][] vectors() {
    return vectors.stream().map(float[]::clone).toArray(float[][]::new);
  }

  /** Whether the postprocess ends in top_k, so that {@link #labels} answers. */
  public boolean hasLabels() {
    return topK != null;
  }

  /** Text i's best classes, best first; throws where the postprocess has no top_k step. */
  public List<Label> labels(int i) {
    if (topK == null) {
      throw new IllegalStateException("the model's postprocess has no top_k step: read vectors()");
    }
    List<Label> best = new ArrayList<>();
    float[] scores = vectors.get(i);
    for (long index : topK.get(i)) {
      int at = (int) index;
      best.add(new Label(at, labels == null ? Integer.toString(at) : labels.get(at), scores[at]));
    }
    return best;
  }
}
