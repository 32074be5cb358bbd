package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.exportpipeline.harness.contract.Folders;
import org.exportpipeline.harness.contract.Manifest;
import org.exportpipeline.harness.contract.Parity;
import org.exportpipeline.harness.contract.Tensor;
import org.exportpipeline.harness.tools.ConcurrencyCheck;

/**
 * What every runner's JUnit test checks on a real exported model from -Dartifacts (make test-java
 * exports mlp there): parity on every golden case (batch 1 and the larger case), and a clear
 * exception for a wrong input shape. Each test class runs in its own JVM (surefire reuseForks=false),
 * since engines' native libraries may not share one.
 */
public final class RunnerChecks {
  private static final Path ARTIFACTS = Path.of(System.getProperty("artifacts", "../artifacts"));

  private RunnerChecks() {}

  public static Manifest model(String name) throws Exception {
    Path dir = ARTIFACTS.resolve(name);
    assertTrue(Files.isRegularFile(dir.resolve(Manifest.FILE)),
        "no exported " + name + " under " + ARTIFACTS.toAbsolutePath() + ": run `make test-java`, or pass -Dartifacts=DIR");
    return Manifest.read(dir, null);
  }

  /** A copy of the model's folder under tmp with its manifest edited: what a runner reads from the manifest, changed. */
  public static Manifest edited(String name, Path tmp, Consumer<JsonObject> edit) throws Exception {
    Path copy = tmp.resolve(name);
    Folders.copyTree(model(name).modelDir(), copy);
    Folders.editManifest(copy, edit);
    return Manifest.read(copy, null);
  }

  /** Opens the runner on the model's artifact, runs every golden case and returns the parity. */
  public static Parity goldenParity(Runner runner, Manifest manifest) throws Exception {
    assertTrue(manifest.exported(runner.format()), runner.format() + " was not exported");
    manifest.verifyFormat(runner.format());
    Parity parity = new Parity(manifest.parity());
    runner.open(manifest.formatDir(runner.format()), manifest);
    for (Manifest.GoldenCase goldenCase : manifest.goldenCases()) {
      parity.add(goldenCase.name(), runner.run(goldenCase.inputs()), goldenCase.reference());
    }
    assertTrue(parity.passed(), runner.runtime() + ": " + parity);
    assertTrue(parity.cases() >= 2, "expected at least two golden cases: " + parity);
    long batches = manifest.goldenCases().stream()
        .map(c -> c.inputs().values().iterator().next().shape()[0]).distinct().count();
    assertTrue(batches >= 2, "golden cases should differ in their dynamic dim");
    return parity;
  }

  /** An opened runner given the first golden input with one more element on its last axis must throw. */
  public static void wrongShapeRaises(Runner runner, Manifest manifest) throws Exception {
    Map<String, Tensor> inputs = new LinkedHashMap<>(manifest.goldenCases().get(0).inputs());
    Tensor first = inputs.values().iterator().next();
    long[] shape = first.shape().clone();
    shape[shape.length - 1] += 1;
    ByteBuffer data = ByteBuffer.allocateDirect(Math.toIntExact(Tensor.elementCount(shape) * first.dtype().bytes()))
        .order(ByteOrder.nativeOrder());
    inputs.put(first.name(), new Tensor(first.name(), first.dtype(), shape, data));
    InvalidInputException error = assertThrows(InvalidInputException.class, () -> runner.run(inputs));
    assertTrue(error.getMessage().contains("input " + first.name()) && error.getMessage().contains("exported for"),
        error.getMessage());
  }

  /** The first golden case still runs after a refused call: a refusal leaves the runner usable. */
  public static void stillRuns(Runner runner, Manifest manifest) throws Exception {
    Manifest.GoldenCase first = manifest.goldenCases().get(0);
    Parity parity = new Parity(manifest.parity());
    parity.add(first.name(), runner.run(first.inputs()), first.reference());
    assertTrue(parity.passed(), parity.toString());
    assertEquals(1, parity.cases());
  }

  /**
   * Four callers share the opened runner, each running every golden case twice (different shapes
   * in flight together): no call throws and every answer is its case's single-caller answer (or, where
   * the runtime is not bit-identical across thread counts, within the parity rule).
   */
  public static ConcurrencyCheck.Outcome concurrentCallersAgree(Runner runner, Manifest manifest) throws Exception {
    List<Manifest.GoldenCase> cases = manifest.goldenCases();
    List<Map<String, Tensor>> answers = new ArrayList<>();
    for (Manifest.GoldenCase goldenCase : cases) {
      answers.add(runner.run(goldenCase.inputs()));
    }
    ConcurrencyCheck.Outcome outcome = ConcurrencyCheck.run(runner, manifest.parity(), cases, answers, 4);
    assertEquals(4 * ConcurrencyCheck.ROUNDS * cases.size(), outcome.calls());
    assertEquals(0, outcome.failures(), outcome.firstError());
    assertEquals(0, outcome.mismatches(), outcome.firstError());
    assertNull(outcome.firstError());
    assertTrue(outcome.passed());
    return outcome;
  }

  /**
   * mlp copied under tmp with the format's needs[key] set to value (a file the runtime cannot load, as the
   * manifest tells it): open must refuse before the runtime reads a file, with one line, returned.
   */
  public static String refusedForNeeds(Runner runner, Path tmp, String key, JsonElement value) throws Exception {
    Path copy = tmp.resolve("mlp");
    Folders.copyTree(model("mlp").modelDir(), copy);
    Folders.editManifest(copy, json -> json.getAsJsonObject("formats").getAsJsonObject(runner.format())
        .getAsJsonObject("needs").add(key, value));
    Manifest manifest = Manifest.read(copy, null);
    manifest.verifyFormat(runner.format());
    String message = assertThrows(UnsupportedOperationException.class,
        () -> runner.open(manifest.formatDir(runner.format()), manifest)).getMessage();
    assertEquals(1, message.lines().count(), message);
    return message;
  }

  /**
   * mlp copied under tmp with one of the format's files rewritten by edit (its manifest entry rehashed,
   * needs left as exported, so no pre-load check stops it): what the runtime itself throws opening it.
   */
  public static Exception runtimeOpening(Runner runner, Path tmp, String file, UnaryOperator<byte[]> edit) throws Exception {
    Path copy = tmp.resolve("mlp");
    Folders.copyTree(model("mlp").modelDir(), copy);
    String relative = runner.format() + "/" + file;
    Files.write(copy.resolve(relative), edit.apply(Files.readAllBytes(copy.resolve(relative))));
    JsonObject entry = Folders.fileEntry(copy, relative);
    Folders.editManifest(copy, json -> {
      JsonArray files = json.getAsJsonObject("formats").getAsJsonObject(runner.format()).getAsJsonArray("files");
      for (int i = 0; i < files.size(); i++) {
        if (files.get(i).getAsJsonObject().get("path").getAsString().equals(relative)) {
          files.set(i, entry);
        }
      }
    });
    Manifest manifest = Manifest.read(copy, null);
    manifest.verifyFormat(runner.format());
    return assertThrows(Exception.class, () -> runner.open(manifest.formatDir(runner.format()), manifest));
  }

  /** A zip archive with the entry whose name ends with suffix holding data instead, every entry stored (as PyTorch writes them). */
  public static byte[] withZipEntry(byte[] zip, String suffix, byte[] data) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      Path copy = Files.createTempFile("archive-", ".zip"); // ZipFile reads the central directory: PyTorch's entries have data descriptors
      Files.write(copy, zip);
      try (ZipFile in = new ZipFile(copy.toFile()); ZipOutputStream out = new ZipOutputStream(bytes)) {
        for (ZipEntry entry : Collections.list(in.entries())) {
          byte[] content = entry.getName().endsWith(suffix) ? data : in.getInputStream(entry).readAllBytes();
          CRC32 crc = new CRC32();
          crc.update(content);
          ZipEntry stored = new ZipEntry(entry.getName());
          stored.setMethod(ZipEntry.STORED);
          stored.setSize(content.length);
          stored.setCompressedSize(content.length);
          stored.setCrc(crc.getValue());
          out.putNextEntry(stored);
          out.write(content);
          out.closeEntry();
        }
      }
      Files.delete(copy);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * A TorchScript runner on libtorch (e.g. "2.13.0") refuses file version 11 in one line before
   * libtorch opens the file, and libtorch itself refuses such a file: the limit is libtorch's own.
   */
  public static void refusesTorchScriptBeyondItsLibtorch(Supplier<Runner> runner, Path tmp, String libtorch) throws Exception {
    assertEquals("model.pt needs TorchScript file version 11; libtorch " + libtorch + " reads up to 10: export with a torch"
            + " no newer than the service's libtorch, or upgrade libtorch",
        refusedForNeeds(runner.get(), tmp.resolve("needs"), "torchscript_file_version", new JsonPrimitive(11)));
    Exception error = runtimeOpening(runner.get(), tmp.resolve("file"), "model.pt",
        bytes -> withZipEntry(bytes, "/version", "11\n".getBytes(StandardCharsets.US_ASCII)));
    String message = error.getMessage() + (error.getCause() == null ? "" : " " + error.getCause().getMessage());
    assertTrue(message.contains("version 11, but the maximum supported version for reading is 10"), message);
  }

  /**
   * A TorchScript program that needs torchvision's operators is refused in one line naming the library and its ops,
   * before libtorch opens the file: it does not load there, which is no parity failure.
   */
  public static void refusesAMissingOperatorLibrary(Supplier<Runner> runner, Path tmp, String why) throws Exception {
    JsonObject libraries = new JsonObject();
    JsonArray ops = new JsonArray();
    ops.add("nms");
    ops.add("roi_align");
    libraries.add("torchvision", ops);
    Runner fresh = runner.get();
    assertEquals("model.pt does not load: needs operator library torchvision (torchvision::nms, torchvision::roi_align), which "
        + fresh.runtime() + " cannot load: " + why, refusedForNeeds(fresh, tmp, "operator_libraries", libraries));
  }

  /** A fresh runner refuses run before open, a second open and run after close, each with one clear line. */
  public static void lifeCycleIsGuarded(Runner runner, Manifest manifest) throws Exception {
    Map<String, Tensor> inputs = manifest.goldenCases().get(0).inputs();
    ModelUnavailableException notOpen = assertThrows(ModelUnavailableException.class, () -> runner.run(inputs));
    assertEquals(ModelUnavailableException.Reason.NOT_OPEN, notOpen.reason());
    assertTrue(notOpen.getMessage().contains("not open"), notOpen.getMessage());
    runner.open(manifest.formatDir(runner.format()), manifest);
    assertTrue(assertThrows(IllegalStateException.class, () -> runner.open(manifest.formatDir(runner.format()), manifest))
        .getMessage().contains("already open"));
    runner.run(inputs);
    runner.close();
    runner.close(); // a second close does nothing
    ModelUnavailableException closed = assertThrows(ModelUnavailableException.class, () -> runner.run(inputs));
    assertEquals(ModelUnavailableException.Reason.CLOSED, closed.reason());
    assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
  }
}
