package org.exportpipeline.harness.openvino;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.exportpipeline.harness.NativeLibraries;
import org.exportpipeline.harness.NativeLocations;

/**
 * The part of OpenVINO's C API (openvino/c/*.h of the pinned wheel) the runner calls, through JNA.
 * Only non-variadic entry points: a C variadic call has no portable ABI from Java. size_t is a Java
 * long (LP64 Linux).
 */
interface OpenVinoC extends Library {
  /** A file (libopenvino_c.so.VERSION) or the wheel's openvino/libs folder. */
  String LIBRARY_PROPERTY = "harness.openvino.lib";
  String LIBRARY_ENV = "HARNESS_OPENVINO_LIB";

  int OK = 0;
  int BOOLEAN = 1;
  int F32 = 4;
  int F64 = 5;
  int I32 = 9;
  int I64 = 10;

  /** ov_version_t. */
  @Structure.FieldOrder({"buildNumber", "description"})
  class Version extends Structure {
    public String buildNumber;
    public String description;
  }

  /** ov_shape_t: rank and a pointer to rank int64 dims. */
  @Structure.FieldOrder({"rank", "dims"})
  class Shape extends Structure {
    public long rank;
    public Pointer dims;

    /** Passed by value to ov_tensor_create_from_host_ptr. */
    static final class ByValue extends Shape implements Structure.ByValue {}
  }

  /** ov_property_t: a key and a C-string value. */
  @Structure.FieldOrder({"key", "value"})
  class Property extends Structure {
    public String key;
    public String value;
  }

  int ov_get_openvino_version(Version version);

  void ov_version_free(Version version);

  String ov_get_error_info(int status);

  String ov_get_last_err_msg();

  int ov_core_create(PointerByReference core);

  void ov_core_free(Pointer core);

  int ov_core_read_model(Pointer core, String modelPath, String binPath, PointerByReference model);

  void ov_model_free(Pointer model);

  int ov_core_compile_model_props(Pointer core, Pointer model, String device, long numProperties,
      Property[] properties, PointerByReference compiledModel);

  /** The variadic form (key, value, ...; size counts both), the only one before the _props form appeared (2025.x). */
  int ov_core_compile_model(Pointer core, Pointer model, String device, long propertyArgsSize,
      PointerByReference compiledModel, Object... keysAndValues);

  void ov_compiled_model_free(Pointer compiledModel);

  int ov_compiled_model_create_infer_request(Pointer compiledModel, PointerByReference request);

  void ov_infer_request_free(Pointer request);

  int ov_infer_request_set_tensor(Pointer request, String tensorName, Pointer tensor);

  int ov_infer_request_get_tensor(Pointer request, String tensorName, PointerByReference tensor);

  int ov_infer_request_infer(Pointer request);

  int ov_tensor_create_from_host_ptr(int elementType, Shape.ByValue shape, Pointer hostPtr, PointerByReference tensor);

  int ov_tensor_get_shape(Pointer tensor, Shape shape);

  int ov_shape_free(Shape shape);

  int ov_tensor_get_element_type(Pointer tensor, IntByReference elementType);

  int ov_tensor_get_byte_size(Pointer tensor, LongByReference byteSize);

  int ov_tensor_data(Pointer tensor, PointerByReference data);

  void ov_tensor_free(Pointer tensor);

  /**
   * Loads libopenvino_c from where the setting points (a file or its folder: another OpenVINO version), else from
   * the natives jar on the classpath (the pinned wheel's libraries, extracted and checked by NativeLibraries).
   */
  static OpenVinoC load() {
    Path configured = NativeLocations.setting(LIBRARY_PROPERTY, LIBRARY_ENV).map(Path::of).orElse(null);
    Path library;
    try {
      library = configured != null && Files.isRegularFile(configured)
          ? configured
          : find(configured != null ? List.of(configured) : NativeLibraries.folder("openvino").map(List::of).orElse(List.of()))
              .orElseThrow(() -> new IllegalStateException("OpenVINO C library (libopenvino_c.so.<version>) not found "
                  + (configured != null ? "in " + configured : "on the classpath") + ": depend on org.exportpipeline:jvm-harness-openvino"
                  + " (its natives jar carries it), or set -D" + LIBRARY_PROPERTY + " (or " + LIBRARY_ENV + ") to it or its folder"));
    } catch (IOException e) {
      throw new IllegalStateException("OpenVINO's natives jar could not be extracted: " + e.getMessage(), e);
    }
    // The wheel's libraries have no RUNPATH: load TBB and the core library by absolute path first, so
    // the dynamic linker finds them by soname when libopenvino_c asks for them.
    Path dir = library.getParent();
    String suffix = library.getFileName().toString().substring("libopenvino_c".length()); // .so.2641
    NativeLibrary.getInstance(dir.resolve("libtbb.so.12").toString());
    NativeLibrary.getInstance(dir.resolve("libopenvino" + suffix).toString());
    return Native.load(library.toString(), OpenVinoC.class);
  }

  private static Optional<Path> find(List<Path> dirs) {
    for (Path dir : dirs) {
      try (Stream<Path> files = Files.list(dir)) {
        Optional<Path> found = files.filter(f -> f.getFileName().toString().matches("libopenvino_c\\.so\\.\\d+")).findFirst();
        if (found.isPresent()) {
          return found;
        }
      } catch (IOException missing) {
        // not this folder; try the next
      }
    }
    return Optional.empty();
  }
}
