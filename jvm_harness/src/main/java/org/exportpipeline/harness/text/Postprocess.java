package org.exportpipeline.harness.text;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.contract.TextContract;

/**
 * The declared postprocess, step by step as exporters/text/postprocess.py computes it: float64 throughout,
 * the vector cast to float32 at the end. mean_pool averages the positions whose mask is 1 (none: zeros),
 * cls_pool takes position 0, l2_normalize divides by max(norm, 1e-12), softmax subtracts the max, top_k
 * keeps the k best indices, ties to the lower index. Thread-safe (stateless).
 */
public final class Postprocess {
  public static final String VECTOR = "vector";
  public static final String TOP_K = "top_k";

  private Postprocess() {}

  /** The answers of one batch: "vector" (float32, [rows, width]) and, with top_k, "top_k" (int64, [rows, k]). */
  public static Map<String, Tensor> apply(TextContract.Postprocess chain, Tensor output, long[][] mask) {
    double[][] x;
    int step = 0;
    List<String> steps = chain.steps();
    boolean pooled = !steps.isEmpty() && (steps.get(0).equals("mean_pool") || steps.get(0).equals("cls_pool"));
    if (pooled) {
      x = pool(steps.get(0), output, mask);
      step = 1;
    } else {
      x = matrix(output);
    }
    long[][] best = null;
    for (; step < steps.size(); step++) {
      switch (steps.get(step)) {
        case "l2_normalize" -> l2(x);
        case "softmax" -> softmax(x);
        case "top_k" -> best = topK(x, chain.k());
        default -> throw new IllegalArgumentException("postprocess step " + steps.get(step) + " is not one of mean_pool, cls_pool, "
            + "l2_normalize, softmax, top_k (pooling comes first)");
      }
    }
    Map<String, Tensor> answers = new LinkedHashMap<>();
    answers.put(VECTOR, floats(x));
    if (best != null) {
      answers.put(TOP_K, TextTokenizer.int64(TOP_K, best));
    }
    return answers;
  }

  private static double[][] pool(String how, Tensor output, long[][] mask) {
    long[] shape = output.shape();
    if (shape.length != 3) {
      throw new IllegalArgumentException("postprocess " + how + " reads (batch, seq, width), got " + Arrays.toString(shape));
    }
    int rows = (int) shape[0];
    int seq = (int) shape[1];
    int width = (int) shape[2];
    double[][] x = new double[rows][width];
    for (int r = 0; r < rows; r++) {
      if (how.equals("cls_pool")) {
        for (int w = 0; w < width; w++) {
          x[r][w] = output.get(((long) r * seq) * width + w);
        }
        continue;
      }
      double count = 0;
      for (int s = 0; s < seq; s++) {
        double weight = mask[r][s];
        count += weight;
        for (int w = 0; w < width; w++) {
          x[r][w] += output.get(((long) r * seq + s) * width + w) * weight;
        }
      }
      double divisor = Math.max(count, 1e-9);
      for (int w = 0; w < width; w++) {
        x[r][w] /= divisor;
      }
    }
    return x;
  }

  private static double[][] matrix(Tensor output) {
    long[] shape = output.shape();
    if (shape.length != 2) {
      throw new IllegalArgumentException("postprocess without pooling reads (batch, width), got " + Arrays.toString(shape));
    }
    double[][] x = new double[(int) shape[0]][(int) shape[1]];
    for (int r = 0; r < x.length; r++) {
      for (int w = 0; w < x[r].length; w++) {
        x[r][w] = output.get((long) r * x[r].length + w);
      }
    }
    return x;
  }

  private static void l2(double[][] x) {
    for (double[] row : x) {
      double sum = 0;
      for (double v : row) {
        sum += v * v;
      }
      double norm = Math.max(Math.sqrt(sum), 1e-12);
      for (int w = 0; w < row.length; w++) {
        row[w] /= norm;
      }
    }
  }

  private static void softmax(double[][] x) {
    for (double[] row : x) {
      double max = Double.NEGATIVE_INFINITY;
      for (double v : row) {
        max = Math.max(max, v);
      }
      double sum = 0;
      for (int w = 0; w < row.length; w++) {
        row[w] = Math.exp(row[w] - max);
        sum += row[w];
      }
      for (int w = 0; w < row.length; w++) {
        row[w] /= sum;
      }
    }
  }

  private static long[][] topK(double[][] x, int k) {
    long[][] best = new long[x.length][];
    for (int r = 0; r < x.length; r++) {
      double[] row = x[r];
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < row.length; i++) {
        order.add(i);
      }
      order.sort(Comparator.<Integer>comparingDouble(i -> -row[i]).thenComparingInt(i -> i)); // stable: ties to the lower index
      best[r] = order.subList(0, Math.min(k, row.length)).stream().mapToLong(Integer::longValue).toArray();
    }
    return best;
  }

  private static Tensor floats(double[][] x) {
    int width = x.length == 0 ? 0 : x[0].length;
    ByteBuffer data = ByteBuffer.allocateDirect(x.length * width * Float.BYTES).order(ByteOrder.nativeOrder());
    for (double[] row : x) {
      for (double v : row) {
        data.putFloat((float) v);
      }
    }
    data.flip();
    return new Tensor(VECTOR, Tensor.DType.FLOAT32, new long[] {x.length, width}, data);
  }
}
