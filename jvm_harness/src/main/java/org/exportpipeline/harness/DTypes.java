package org.exportpipeline.harness;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import org.exportpipeline.harness.contract.Tensor;

/**
 * An engine's names for the tensor dtypes, as one table read both ways: the code an input is handed to
 * the runtime with, and the dtype an output the runtime returns is. Every runner declares one, in
 * Tensor.DType's order, instead of a switch each way. Thread-safe (immutable).
 *
 * @param <T> the engine's own dtype type (an enum constant, or an int code)
 */
public final class DTypes<T> {
  private final String engine;
  private final Map<Tensor.DType, T> codes = new EnumMap<>(Tensor.DType.class);
  private final Map<T, Tensor.DType> dtypes = new HashMap<>();

  private DTypes(String engine, Map<Tensor.DType, T> codes) {
    this.engine = engine;
    this.codes.putAll(codes);
    codes.forEach((dtype, code) -> dtypes.put(code, dtype));
  }

  /** The engine's codes for float32, float64, int32, int64 and bool; engine names it in errors. */
  public static <T> DTypes<T> of(String engine, T float32, T float64, T int32, T int64, T bool) {
    return new DTypes<>(engine, Map.of(Tensor.DType.FLOAT32, float32, Tensor.DType.FLOAT64, float64,
        Tensor.DType.INT32, int32, Tensor.DType.INT64, int64, Tensor.DType.BOOL, bool));
  }

  /** The engine's code for a dtype. */
  public T code(Tensor.DType dtype) {
    return codes.get(dtype);
  }

  /** The dtype of an output the engine returned; one no Tensor holds is an error naming it. */
  public Tensor.DType dtype(T code) {
    Tensor.DType dtype = dtypes.get(code);
    if (dtype == null) {
      throw new IllegalArgumentException("unsupported " + engine + " output type " + code);
    }
    return dtype;
  }
}
