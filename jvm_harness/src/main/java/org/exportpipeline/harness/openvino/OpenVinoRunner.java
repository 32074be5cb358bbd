package org.exportpipeline.harness.openvino;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.exportpipeline.harness.contract.ContractException;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.Pool;
import org.exportpipeline.harness.DTypes;
import org.exportpipeline.harness.Limits;
import org.exportpipeline.harness.PooledRunner;
import org.exportpipeline.harness.contract.Tensor;

/**
 * OpenVINO IR through the C API of the pinned openvino wheel (JNA). Compiled for CPU with the
 * manifest's settings as compile properties, the ones exporters/formats/openvino.py compiles with
 * (INFERENCE_PRECISION_HINT=f32: on CPUs with bf16 support the default precision alone costs ~1e-2 of parity). Each call sets tensors of the call's
 * own shapes, which is how dynamic dims get their sizes.
 *
 * <p>Thread-safe: one compiled model is shared and each call borrows an infer request from a bounded
 * pool (one per core by default). A request serves one call at a time (OpenVINO throws "Infer Request
 * is busy" otherwise, and a shared request hands one caller's outputs to another); callers beyond the
 * pool wait for a request to come back. close() waits for calls in flight.
 */
public final class OpenVinoRunner extends PooledRunner<Pointer> {
  private static final String DEVICE = "CPU";

  private static final String THREADS_KEY = "INFERENCE_NUM_THREADS";

  /** ov_element_type_e, in the 2025+ numbering (see {@link #shift}). */
  private static final DTypes<Integer> TYPES = DTypes.of("OpenVINO", OpenVinoC.F32, OpenVinoC.F64, OpenVinoC.I32, OpenVinoC.I64,
      OpenVinoC.BOOLEAN);

  private static OpenVinoC ov;

  private Pointer core;
  private Pointer compiled;

  public OpenVinoRunner() {
    super("openvino", "openvino-c-jna", "openvino");
  }

  @Override
  public String version() {
    return "openvino " + build();
  }

  /** The runtime's build number, e.g. 2026.4.1-20426-... */
  private String build() {
    OpenVinoC.Version version = new OpenVinoC.Version();
    check(api().ov_get_openvino_version(version), "reading the version");
    String build = version.buildNumber;
    api().ov_version_free(version);
    return build;
  }

  /** ov_core_compile_model_props where the runtime has it; older runtimes (a service's own) have only the variadic form. */
  private int compile(Pointer model, OpenVinoC.Property[] properties, PointerByReference out) {
    try {
      return api().ov_core_compile_model_props(core, model, DEVICE, properties == null ? 0 : properties.length, properties, out);
    } catch (UnsatisfiedLinkError older) {
      List<Object> args = new ArrayList<>();
      for (OpenVinoC.Property property : properties == null ? new OpenVinoC.Property[0] : properties) {
        args.add(property.key);
        args.add(property.value);
      }
      return api().ov_core_compile_model(core, model, DEVICE, args.size(), out, args.toArray());
    }
  }

  @Override
  protected Optional<String> threadsSetting(int count) { // 0: the plugin's default, one per core
    return Optional.of(THREADS_KEY + "=" + count + " at compile (all infer requests share it)");
  }

  @Override
  protected Limits limits() {
    String build = build();
    return (manifest, format, main) -> IrLimits.refusal(manifest, format, main, build);
  }

  @Override
  protected void load(Path formatDir, Manifest manifest) throws ContractException {
    String main = manifest.main(format()); // weights beside it in model.bin
    PointerByReference out = new PointerByReference();
    check(api().ov_core_create(out), "creating a Core");
    core = out.getValue();
    Path xml = formatDir.resolve(main);
    check(api().ov_core_read_model(core, xml.toString(), null, out), "reading " + xml);
    Pointer model = out.getValue();
    try {
      Map<String, String> settings = new LinkedHashMap<>(manifest.settings(format()));
      if (intraOpThreads() > 0) {
        settings.put(THREADS_KEY, Integer.toString(intraOpThreads()));
      }
      // An empty list goes as NULL: JNA cannot lay out an array of no structures.
      OpenVinoC.Property[] properties = settings.isEmpty() ? null : (OpenVinoC.Property[]) new OpenVinoC.Property().toArray(settings.size());
      int i = 0;
      for (Map.Entry<String, String> setting : settings.entrySet()) {
        properties[i].key = setting.getKey();
        properties[i++].value = setting.getValue();
      }
      check(compile(model, properties, out), "compiling " + xml + " for " + DEVICE);
      compiled = out.getValue();
    } finally {
      api().ov_model_free(model);
    }
    pool("OpenVINO infer requests", Pool.defaultSize(), () -> {
      PointerByReference request = new PointerByReference();
      check(api().ov_compiled_model_create_infer_request(compiled, request), "creating an infer request");
      return request.getValue();
    });
  }

  /** How many infer requests exist now (they are created as calls overlap; for tests). */
  int requestCount() {
    return pool().size();
  }

  @Override
  protected Map<String, Tensor> call(Pointer request, List<Tensor> inputs) {
    List<Pointer> feeds = new ArrayList<>();
    try {
      PointerByReference out = new PointerByReference();
      for (Tensor input : inputs) {
        String name = input.name();
        // Wraps the caller's direct buffer: no copy, and the call's own shape (Runner keeps it reachable for the call).
        check(api().ov_tensor_create_from_host_ptr(elementType(input.dtype()), shape(input.shape()),
            Native.getDirectBufferPointer(input.data()), out), "wrapping input " + name);
        feeds.add(out.getValue());
        check(api().ov_infer_request_set_tensor(request, name, out.getValue()), "setting input " + name);
      }
      check(api().ov_infer_request_infer(request), "running inference");
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      for (String name : outputNames()) {
        check(api().ov_infer_request_get_tensor(request, name, out), "reading output " + name);
        Pointer tensor = out.getValue();
        try {
          outputs.put(name, copy(name, tensor));
        } finally {
          api().ov_tensor_free(tensor);
        }
      }
      return outputs;
    } finally {
      feeds.forEach(api()::ov_tensor_free);
    }
  }

  private static Tensor copy(String name, Pointer tensor) {
    OpenVinoC.Shape shape = new OpenVinoC.Shape();
    check(api().ov_tensor_get_shape(tensor, shape), "reading the shape of output " + name);
    long[] dims = shape.dims.getLongArray(0, (int) shape.rank);
    api().ov_shape_free(shape);
    IntByReference type = new IntByReference();
    check(api().ov_tensor_get_element_type(tensor, type), "reading the type of output " + name);
    LongByReference bytes = new LongByReference();
    check(api().ov_tensor_get_byte_size(tensor, bytes), "reading the size of output " + name);
    PointerByReference data = new PointerByReference();
    check(api().ov_tensor_data(tensor, data), "reading output " + name);
    return Tensor.copyOf(name, dtype(type.getValue()), dims, data.getValue().getByteBuffer(0, bytes.getValue()));
  }

  private static OpenVinoC.Shape.ByValue shape(long[] dims) {
    OpenVinoC.Shape.ByValue shape = new OpenVinoC.Shape.ByValue();
    shape.rank = dims.length;
    shape.dims = new Memory(Math.max(1, dims.length) * Long.BYTES);
    shape.dims.write(0, dims, 0, dims.length);
    return shape;
  }

  /**
   * ov_element_type_e lost its leading UNDEFINED entry in 2025.0 (the constants in OpenVinoC are the
   * newer numbering): on 2024.x every value is one higher, or f32 inputs arrive as f16.
   */
  private static int shift() {
    if (enumShift < 0) {
      OpenVinoC.Version version = new OpenVinoC.Version();
      check(api().ov_get_openvino_version(version), "reading the version");
      String build = version.buildNumber;
      api().ov_version_free(version);
      java.util.regex.Matcher year = java.util.regex.Pattern.compile("^(\\d{4})\\.").matcher(build);
      enumShift = year.find() && Integer.parseInt(year.group(1)) < 2025 ? 1 : 0;
    }
    return enumShift;
  }

  private static int enumShift = -1;

  private static int elementType(Tensor.DType dtype) {
    return shift() + TYPES.code(dtype);
  }

  private static Tensor.DType dtype(int elementType) {
    return TYPES.dtype(elementType - shift());
  }

  /** Throws with OpenVINO's own message (its first line) when a call did not return OK. */
  private static void check(int status, String what) {
    if (status != OpenVinoC.OK) {
      String detail = api().ov_get_last_err_msg();
      if (detail == null || detail.isBlank()) {
        detail = api().ov_get_error_info(status);
      }
      // OpenVINO's first line is only the throwing source line; the reason follows it: keep all, on one line.
      throw new IllegalStateException("OpenVINO failed " + what + ": " + String.join(" ", detail.strip().lines().map(String::strip).toList()));
    }
  }

  private static synchronized OpenVinoC api() {
    if (ov == null) {
      ov = OpenVinoC.load();
    }
    return ov;
  }

  @Override
  protected void free(Pointer request) {
    api().ov_infer_request_free(request);
  }

  @Override
  protected void releaseShared() {
    if (compiled != null) {
      api().ov_compiled_model_free(compiled);
      compiled = null;
    }
    if (core != null) {
      api().ov_core_free(core);
      core = null;
    }
  }
}
