package org.exportpipeline.harness.ort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.exportpipeline.harness.Limits;
import org.exportpipeline.harness.contract.ContractException;

/**
 * What an ONNX file needs (IR version, default-domain opset) against what the running ONNX Runtime
 * implements, checked before a session is created: an older service runtime then refuses with one
 * line instead of ORT's multi-line source-location error.
 *
 * <p>The table: ORT's docs state IR 10 / opset 21 for 1.20; the other rows were measured on these
 * jars (the newest IR and opset each release loads an Identity model with, 2026-12). Thread-safe
 * (static and immutable).
 */
public final class OnnxLimits {
  /** ORT release (major.minor) -> {max IR version, max ai.onnx opset}. */
  static final Map<String, int[]> SUPPORTED = Map.of(
      "1.20", new int[] {10, 21},
      "1.22", new int[] {10, 22},
      "1.24", new int[] {13, 25},
      "1.26", new int[] {13, 26},
      "1.28", new int[] {13, 26},
      "1.29", new int[] {13, 26});

  /** What a model file declares. */
  public record Needs(long irVersion, Map<String, Long> opsets) {
    long opset() {
      return opsets.getOrDefault("", opsets.getOrDefault("ai.onnx", 0L));
    }
  }

  private OnnxLimits() {}

  /** These limits on this ORT version, as the runner template asks them. */
  static Limits on(String ortVersion) {
    return (manifest, format, main) -> {
      try {
        return refusal(manifest.formatDir(format).resolve(main), ortVersion);
      } catch (IOException e) {
        throw new ContractException(main + " could not be read (" + e.getMessage() + "): check its permissions");
      }
    };
  }

  /** The refusal for this model on this ORT version, or empty when it is within the table (or the version is not in it). */
  public static Optional<String> refusal(Path model, String ortVersion) throws IOException {
    String[] parts = ortVersion.split("\\.");
    int[] max = parts.length < 2 ? null : SUPPORTED.get(parts[0] + "." + parts[1]);
    if (max == null) {
      return Optional.empty(); // a release we have not tabled: ORT itself decides
    }
    Needs needs = read(Files.readAllBytes(model));
    if (needs.irVersion() <= max[0] && needs.opset() <= max[1]) {
      return Optional.empty();
    }
    return Optional.of(model.getFileName() + " needs IR " + needs.irVersion() + " / opset " + needs.opset() + "; ONNX Runtime "
        + ortVersion + " supports up to IR " + max[0] + " / opset " + max[1] + ": export with a lower opset or upgrade ONNX Runtime");
  }

  /** ModelProto's ir_version (field 1) and opset_import (field 8: domain = 1, version = 2), read from the protobuf wire format. */
  static Needs read(byte[] bytes) {
    long ir = 0;
    Map<String, Long> opsets = new TreeMap<>();
    Wire wire = new Wire(bytes, 0, bytes.length);
    while (wire.more()) {
      long key = wire.varint();
      int field = (int) (key >>> 3);
      int type = (int) (key & 7);
      if (field == 1 && type == 0) {
        ir = wire.varint();
      } else if (field == 8 && type == 2) {
        int length = (int) wire.varint();
        Wire entry = new Wire(bytes, wire.at, wire.at + length);
        String domain = "";
        long version = 0;
        while (entry.more()) {
          long k = entry.varint();
          if ((k >>> 3) == 1 && (k & 7) == 2) {
            int n = (int) entry.varint();
            domain = new String(bytes, entry.at, n, java.nio.charset.StandardCharsets.UTF_8);
            entry.at += n;
          } else if ((k >>> 3) == 2 && (k & 7) == 0) {
            version = entry.varint();
          } else {
            entry.skip((int) (k & 7));
          }
        }
        opsets.put(domain, version);
        wire.at += length;
      } else {
        wire.skip(type);
      }
    }
    return new Needs(ir, opsets);
  }

  /** A cursor over protobuf wire bytes. */
  private static final class Wire {
    private final byte[] bytes;
    private final int end;
    int at;

    Wire(byte[] bytes, int start, int end) {
      this.bytes = bytes;
      this.at = start;
      this.end = end;
    }

    boolean more() {
      return at < end;
    }

    long varint() {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (at >= end) {
          throw new IllegalArgumentException("truncated ONNX protobuf");
        }
        byte b = bytes[at++];
        value |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          return value;
        }
      }
      throw new IllegalArgumentException("malformed varint in ONNX protobuf");
    }

    void skip(int type) {
      switch (type) {
        case 0 -> varint();
        case 1 -> at += 8;
        case 2 -> {
          int length = (int) varint(); // not `at += varint()`: Java reads `at` before the call advances it
          at += length;
        }
        case 5 -> at += 4;
        default -> throw new IllegalArgumentException("unsupported protobuf wire type " + type + " in ONNX file");
      }
    }
  }
}
