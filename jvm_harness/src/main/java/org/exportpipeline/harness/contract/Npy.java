package org.exportpipeline.harness.contract;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the .npy files of the golden vectors (format versions 1-3, little-endian, C order).
 *
 * <p>Hand-written because no maintained Java library on Maven Central reads .npy without pulling in
 * a whole array framework; the format is a short header before raw data. Thread-safe (stateless).
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=])(\\w+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  private Npy() {}

  /**
   * Parses a whole .npy file already read (and checked) by {@link ArtifactFiles#read}: this class
   * never opens files, so nothing reaches it unbounded.
   */
  public static Tensor parse(byte[] bytes, String source, String name) throws ContractException {
    try {
      return parse(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), source, name);
    } catch (BufferUnderflowException | IllegalArgumentException | ArithmeticException | NegativeArraySizeException e) {
      throw new ContractException(source + " is not a valid .npy file (" + e.getMessage() + "): re-export the model");
    }
  }

  private static Tensor parse(ByteBuffer file, String path, String name) throws ContractException {
    byte[] magic = new byte[MAGIC.length];
    file.get(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new ContractException(path + " is not a .npy file: re-export the model");
    }
    int major = file.get();
    file.get(); // minor version
    int headerLength = major == 1 ? Short.toUnsignedInt(file.getShort()) : file.getInt();
    byte[] headerBytes = new byte[headerLength];
    file.get(headerBytes);
    String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

    Matcher descr = find(DESCR, header, path);
    if (descr.group(1).equals(">")) {
      throw new ContractException(path + ": big-endian arrays are not supported: save golden arrays little-endian");
    }
    if (find(FORTRAN, header, path).group(1).equals("True")) {
      throw new ContractException(path + ": Fortran-order arrays are not supported: save golden arrays in C order");
    }
    String dims = find(SHAPE, header, path).group(1).trim();
    long[] shape = dims.isEmpty()
        ? new long[0]
        : Arrays.stream(dims.split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();

    ByteBuffer data = ByteBuffer.allocateDirect(file.remaining()).order(ByteOrder.nativeOrder());
    data.put(file).flip();
    return new Tensor(name, dtype(descr.group(2), path), shape, data);
  }

  private static Tensor.DType dtype(String code, String path) throws ContractException {
    return switch (code) {
      case "f4" -> Tensor.DType.FLOAT32;
      case "f8" -> Tensor.DType.FLOAT64;
      case "i4" -> Tensor.DType.INT32;
      case "i8" -> Tensor.DType.INT64;
      case "b1" -> Tensor.DType.BOOL;
      default -> throw new ContractException(path + ": unsupported dtype " + code + ": use float32, float64, int32, int64 or bool");
    };
  }

  private static Matcher find(Pattern pattern, String header, String path) throws ContractException {
    Matcher matcher = pattern.matcher(header);
    if (!matcher.find()) {
      throw new ContractException(path + ": malformed .npy header " + header.trim() + ": re-export the model");
    }
    return matcher;
  }
}
