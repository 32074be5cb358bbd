package org.exportpipeline.harness.toy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Npy;
import org.exportpipeline.harness.contract.Tensor;

/**
 * A toy engine, as a team would add one: tests/plugins/toy_layers.py's dense layers, run in plain Java (float32
 * in and out, sums in double). tests/test_plugins.py drops it into a copy of the harness as its own runner
 * package with a services file and one ENGINES entry, to prove that an engine writes only load, infer and
 * release: the template checks inputs, keeps them reachable and refuses bad calls. Thread-safe: the layers are
 * read once at load and never change.
 */
public final class ToyRunner extends Runner {
  /** One layer: an activation's name, or "linear" with its weight [out, in] and bias [out]. */
  private record Layer(String kind, float[][] weight, float[] bias) {}

  private List<Layer> layers;

  public ToyRunner() {
    super("toy_layers", "toy-java", "toy");
  }

  @Override
  public String version() {
    return "toy 1.0";
  }

  @Override
  protected void load(Path formatDir, Manifest manifest) throws Exception {
    String accumulate = manifest.settings(format()).get("TOY_ACCUMULATE");
    if (!"double".equals(accumulate)) {
      throw new IllegalArgumentException("the toy engine sums in double; the manifest asks TOY_ACCUMULATE=" + accumulate);
    }
    layers = new ArrayList<>();
    for (String line : Files.readAllLines(formatDir.resolve(manifest.main(format())))) {
      String[] words = line.split(" ");
      if (words[0].equals("linear")) {
        layers.add(new Layer("linear", matrix(formatDir.resolve(words[1])), matrix(formatDir.resolve(words[2]))[0]));
      } else if (List.of("relu", "sigmoid", "tanh").contains(words[0])) {
        layers.add(new Layer(words[0], null, null));
      } else if (!line.isEmpty()) {
        throw new IllegalArgumentException("unknown layer '" + line + "'");
      }
    }
  }

  /** A weight [out, in] or a bias [out] (as one row), in float32. */
  private static float[][] matrix(Path npy) throws Exception {
    Tensor tensor = Npy.parse(Files.readAllBytes(npy), npy.getFileName().toString(), "weights");
    long[] shape = tensor.shape();
    int rows = shape.length == 2 ? (int) shape[0] : 1;
    float[][] matrix = new float[rows][(int) shape[shape.length - 1]];
    FloatBuffer data = tensor.data().duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
    for (float[] row : matrix) {
      data.get(row);
    }
    return matrix;
  }

  @Override
  protected Map<String, Tensor> infer(List<Tensor> inputs) {
    Tensor input = inputs.get(0);
    int batch = (int) input.shape()[0];
    float[][] x = new float[batch][(int) input.shape()[1]];
    FloatBuffer data = input.data().duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
    for (float[] row : x) {
      data.get(row);
    }
    for (Layer layer : layers) {
      x = layer.kind().equals("linear") ? dense(x, layer.weight(), layer.bias()) : activate(layer.kind(), x);
    }
    ByteBuffer out = ByteBuffer.allocateDirect(batch * x[0].length * Float.BYTES).order(ByteOrder.nativeOrder());
    for (float[] row : x) {
      out.asFloatBuffer().put(row);
      out.position(out.position() + row.length * Float.BYTES);
    }
    String name = outputNames().get(0);
    return Map.of(name, new Tensor(name, Tensor.DType.FLOAT32, new long[] {batch, x[0].length}, out.flip()));
  }

  private static float[][] dense(float[][] x, float[][] w, float[] b) {
    float[][] y = new float[x.length][w.length];
    for (int r = 0; r < x.length; r++) {
      for (int o = 0; o < w.length; o++) {
        double sum = b[o];
        for (int i = 0; i < w[o].length; i++) {
          sum += (double) x[r][i] * w[o][i];
        }
        y[r][o] = (float) sum;
      }
    }
    return y;
  }

  private static float[][] activate(String step, float[][] x) {
    for (float[] row : x) {
      for (int i = 0; i < row.length; i++) {
        double v = row[i];
        row[i] = (float) switch (step) {
          case "relu" -> Math.max(v, 0);
          case "sigmoid" -> 1 / (1 + Math.exp(-v));
          default -> Math.tanh(v);
        };
      }
    }
    return x;
  }

  @Override
  protected void release() {
    layers = null;
  }
}
