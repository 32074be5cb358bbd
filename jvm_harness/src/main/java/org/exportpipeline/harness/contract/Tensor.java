package org.exportpipeline.harness.contract;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named tensor over a direct, native-order buffer: what crosses every runtime binding. Thread-safe
 * for reads (they use absolute offsets); a runtime that moves the buffer's position needs a
 * {@code data().duplicate()} per call.
 */
public record Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {

  public Tensor {
    if (!data.isDirect()) {
      throw new IllegalArgumentException(name + ": buffer must be direct; use Tensor.copyOf");
    }
    data = data.order(ByteOrder.nativeOrder());
    long expected = elementCount(shape) * dtype.bytes();
    if (data.remaining() != expected) {
      throw new IllegalArgumentException(
          name + ": " + data.remaining() + " bytes for shape " + Arrays.toString(shape) + " of " + dtype
              + " (expected " + expected + ")");
    }
  }

  /** Copies a runtime's output into memory this tensor owns (the runtime may free its own). */
  public static Tensor copyOf(String name, DType dtype, long[] shape, ByteBuffer source) {
    ByteBuffer copy = ByteBuffer.allocateDirect(source.remaining()).order(ByteOrder.nativeOrder());
    copy.put(source.duplicate().order(source.order())).flip();
    return new Tensor(name, dtype, shape, copy);
  }

  public static long elementCount(long[] shape) {
    return Arrays.stream(shape).reduce(1, Math::multiplyExact);
  }

  public long elementCount() {
    return elementCount(shape);
  }

  /** Element i as a double, whatever the dtype: for comparisons only. */
  public double get(long i) {
    int offset = Math.toIntExact(i * dtype.bytes());
    return switch (dtype) {
      case FLOAT32 -> data.getFloat(offset);
      case FLOAT64 -> data.getDouble(offset);
      case INT32 -> data.getInt(offset);
      case INT64 -> data.getLong(offset);
      case BOOL -> data.get(offset);
    };
  }

  @Override
  public String toString() {
    return name + ":" + dtype + Arrays.toString(shape);
  }

  /** The dtypes the contract uses, with their numpy names. */
  public enum DType {
    FLOAT32("float32", 4),
    FLOAT64("float64", 8),
    INT32("int32", 4),
    INT64("int64", 8),
    BOOL("bool", 1);

    private final String numpy;
    private final int bytes;

    DType(String numpy, int bytes) {
      this.numpy = numpy;
      this.bytes = bytes;
    }

    public String numpy() {
      return numpy;
    }

    /** The dtype numpy names so ("float32"), or empty. */
    public static java.util.Optional<DType> ofNumpy(String numpy) {
      return Arrays.stream(values()).filter(d -> d.numpy.equals(numpy)).findFirst();
    }

    public int bytes() {
      return bytes;
    }
  }
}
