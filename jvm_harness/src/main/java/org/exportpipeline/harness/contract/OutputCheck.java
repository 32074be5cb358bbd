package org.exportpipeline.harness.contract;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a runtime may answer along the output dims whose size the data decides (a detector's detections): at
 * most the bound the manifest declares, which a service sizes its buffers and responses by. A runtime that
 * returns more breaks that promise: one line names the output, the count and the bound. Immutable, so
 * thread-safe.
 */
public final class OutputCheck {
  private record Bound(int axis, String dim, long max) {}

  private final Map<String, Bound[]> bounds = new LinkedHashMap<>();

  public OutputCheck(Manifest manifest) throws ContractException {
    for (Map.Entry<String, Map<Integer, String>> output : manifest.dataAxes().entrySet()) {
      Bound[] axes = new Bound[output.getValue().size()];
      int i = 0;
      for (Map.Entry<Integer, String> axis : output.getValue().entrySet()) {
        axes[i++] = new Bound(axis.getKey(), axis.getValue(), manifest.dimMax(axis.getValue()));
      }
      bounds.put(output.getKey(), axes);
    }
  }

  /** The first output with more along a data-decided dim than its bound, in one line, or empty. */
  public Optional<String> problem(Map<String, Tensor> outputs) {
    for (Map.Entry<String, Bound[]> output : bounds.entrySet()) {
      Tensor tensor = outputs.get(output.getKey());
      for (Bound bound : output.getValue()) {
        if (tensor != null && bound.axis() < tensor.shape().length && tensor.shape()[bound.axis()] > bound.max()) {
          return Optional.of("output " + output.getKey() + " has " + tensor.shape()[bound.axis()] + " along dim " + bound.axis()
              + " (" + bound.dim() + "), more than the manifest's bound of " + bound.max() + ": re-export with the model's true bound");
        }
      }
    }
    return Optional.empty();
  }
}
