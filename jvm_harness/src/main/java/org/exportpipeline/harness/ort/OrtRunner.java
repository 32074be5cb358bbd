package org.exportpipeline.harness.ort;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.DTypes;
import org.exportpipeline.harness.Limits;
import org.exportpipeline.harness.Runner;
import org.exportpipeline.harness.contract.Tensor;

/**
 * ONNX artifacts through ONNX Runtime Java; inputs wrap the caller's direct buffers without a copy,
 * and where every output's shape follows from the inputs' (fixed dims, or dims named like an input's),
 * outputs are pinned: ORT writes into a buffer allocated for the caller, so no copy is made and ORT
 * allocates no output of its own. Otherwise the outputs ORT allocated are copied out.
 *
 * <p>ONNX Runtime 1.29 and later record telemetry from the moment its environment exists: a device id
 * and an event cache under ~/.cache/Microsoft, a log in /tmp, uploads where they can reach out. Only
 * ORT_DISABLE_TELEMETRY=1 in the process environment, set before the first runner opens, prevents that
 * (Java cannot set it for its own process); the first runner warns once when it is missing.
 *
 * <p>Thread-safe: one OrtSession serves every caller (ORT documents concurrent run() on a session as
 * safe); close() waits for calls in flight, since closing a session under a run crashes.
 */
public final class OrtRunner extends Runner {
  private OrtEnvironment env; // loads ORT's native library: not in the constructor (see Runner)
  private OrtSession session;
  private List<OutputShape> pinnable; // null: some output's shape is known only after the run
  private static final DTypes<OnnxJavaType> TYPES = DTypes.of("ONNX", OnnxJavaType.FLOAT, OnnxJavaType.DOUBLE,
      OnnxJavaType.INT32, OnnxJavaType.INT64, OnnxJavaType.BOOL);

  public OrtRunner() {
    super("onnx", "onnxruntime-java", "onnxruntime");
  }

  @Override
  public String version() {
    return environment().getVersion();
  }

  private OrtEnvironment environment() {
    if (env == null) {
      Telemetry.warnWhenOn();
      env = OrtEnvironment.getEnvironment();
      try {
        env.setTelemetry(false); // the events after creation; ORT_DISABLE_TELEMETRY=1 covers creation too
      } catch (OrtException e) {
        throw new IllegalStateException("ONNX Runtime refused to turn telemetry off: " + e.getMessage(), e);
      }
    }
    return env;
  }

  @Override
  protected Optional<String> threadsSetting(int count) {
    return Optional.of("SessionOptions.setIntraOpNumThreads(" + count + ")"); // 0: ORT's default, one per physical core
  }

  @Override
  protected Limits limits() {
    return OnnxLimits.on(version());
  }

  @Override
  protected void load(Path formatDir, Manifest manifest) throws Exception {
    Path model = formatDir.resolve(manifest.main(format())); // weights beside it in model.onnx.data
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      if (intraOpThreads() > 0) {
        options.setIntraOpNumThreads(intraOpThreads());
      }
      session = environment().createSession(model.toString(), options);
    }
    pinnable = OutputShape.fromInputs(session.getInputInfo(), session.getOutputInfo(), inputNames(), outputNames());
  }

  @Override
  protected Map<String, Tensor> infer(List<Tensor> inputs) throws OrtException {
    Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
    try {
      for (Tensor input : inputs) {
        feeds.put(input.name(), OnnxTensor.createTensor(environment(), input.data(), input.shape(), TYPES.code(input.dtype())));
      }
      if (pinnable != null) {
        return inferPinned(feeds, inputs);
      }
      try (OrtSession.Result result = session.run(feeds)) {
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        for (String name : outputNames()) {
          OnnxValue value = result.get(name).orElseThrow(() -> new IllegalStateException("no output " + name));
          OnnxTensor tensor = (OnnxTensor) value;
          TensorInfo info = tensor.getInfo();
          outputs.put(name, Tensor.copyOf(name, TYPES.dtype(info.type), info.getShape(), tensor.getByteBuffer()));
        }
        return outputs;
      }
    } finally {
      for (OnnxTensor feed : new ArrayList<>(feeds.values())) {
        feed.close();
      }
    }
  }

  /** Whether outputs are pinned (known once opened): the tests assert which path a model takes. */
  boolean outputsPinned() {
    return pinnable != null;
  }

  /** Outputs written by ORT straight into buffers the returned tensors own. */
  private Map<String, Tensor> inferPinned(Map<String, OnnxTensor> feeds, List<Tensor> inputs) throws OrtException {
    Map<String, Tensor> outputs = new LinkedHashMap<>();
    Map<String, OnnxTensor> pinned = new LinkedHashMap<>();
    try {
      for (OutputShape output : pinnable) {
        long[] shape = output.resolve(inputs);
        ByteBuffer data = ByteBuffer.allocateDirect(Math.toIntExact(Tensor.elementCount(shape) * output.dtype().bytes()))
            .order(ByteOrder.nativeOrder());
        outputs.put(output.name(), new Tensor(output.name(), output.dtype(), shape, data));
        pinned.put(output.name(), OnnxTensor.createTensor(environment(), data, shape, TYPES.code(output.dtype())));
      }
      session.run(feeds, pinned).close(); // the result holds only the pinned tensors, closed below
      return outputs;
    } finally {
      for (OnnxTensor tensor : pinned.values()) {
        tensor.close();
      }
    }
  }

  /**
   * An output's shape as the model declares it, resolved per call from the inputs' shapes: inputIndex[axis]
   * is the input (in the manifest's order, as infer gets them) whose inputAxis[axis] gives the size, or -1.
   */
  private record OutputShape(String name, Tensor.DType dtype, long[] fixed, int[] inputIndex, int[] inputAxis) {
    /** Every output resolvable, in outputNames order, or null. */
    static List<OutputShape> fromInputs(Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs, List<String> inputNames,
        List<String> outputNames) {
      Map<String, Integer> dimInput = new HashMap<>();
      Map<String, Integer> dimAxis = new HashMap<>();
      for (NodeInfo input : inputs.values()) {
        if (!(input.getInfo() instanceof TensorInfo info) || !inputNames.contains(input.getName())) {
          return null;
        }
        String[] names = info.getDimensionNames();
        for (int axis = 0; axis < names.length; axis++) {
          if (!names[axis].isEmpty() && !dimInput.containsKey(names[axis])) {
            dimInput.put(names[axis], inputNames.indexOf(input.getName()));
            dimAxis.put(names[axis], axis);
          }
        }
      }
      List<OutputShape> shapes = new ArrayList<>();
      for (String name : outputNames) {
        NodeInfo output = outputs.get(name);
        if (output == null || !(output.getInfo() instanceof TensorInfo info) || !pinnableType(info.type)) {
          return null;
        }
        long[] fixed = info.getShape();
        String[] dims = info.getDimensionNames();
        int[] fromInput = new int[fixed.length];
        int[] axes = new int[fixed.length];
        Arrays.fill(fromInput, -1);
        for (int axis = 0; axis < fixed.length; axis++) {
          if (fixed[axis] < 0) {
            if (!dimInput.containsKey(dims[axis])) {
              return null; // a dim computed inside the model (data-dependent, or derived arithmetically)
            }
            fromInput[axis] = dimInput.get(dims[axis]);
            axes[axis] = dimAxis.get(dims[axis]);
          }
        }
        shapes.add(new OutputShape(name, TYPES.dtype(info.type), fixed, fromInput, axes));
      }
      return shapes;
    }

    long[] resolve(List<Tensor> inputs) {
      long[] shape = fixed.clone();
      for (int axis = 0; axis < shape.length; axis++) {
        if (inputIndex[axis] >= 0) {
          shape[axis] = inputs.get(inputIndex[axis]).shape()[inputAxis[axis]];
        }
      }
      return shape;
    }

    private static boolean pinnableType(OnnxJavaType type) {
      return switch (type) {
        case FLOAT, DOUBLE, INT32, INT64 -> true;
        default -> false; // BOOL outputs keep the copying path: ORT's boolean buffers are not plain bytes in every version
      };
    }
  }

  @Override
  protected void release() throws OrtException {
    if (session != null) {
      session.close();
      session = null;
    }
  }

  /** The warning about ONNX Runtime's telemetry, given once per process. */
  static final class Telemetry {
    static final String SETTING = "ORT_DISABLE_TELEMETRY";
    private static boolean warned;

    private Telemetry() {}

    static synchronized void warnWhenOn() {
      if (warned || "1".equals(System.getenv(SETTING))) {
        return;
      }
      warned = true;
      System.getLogger(OrtRunner.class.getName()).log(System.Logger.Level.WARNING, "ONNX Runtime records telemetry"
          + " (a device id and events under ~/.cache/Microsoft, uploaded where it can reach out) from its first"
          + " environment on, before setTelemetry(false) applies: set " + SETTING + "=1 in this process's environment");
    }
  }
}
