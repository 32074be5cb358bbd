package org.exportpipeline.harness.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manifest-driven input check every runner applies before its runtime sees a tensor. */
class InputCheckTest {
  private static final String RANGE = "but the model takes values 0..8191 (nn.Embedding tokens, 8192 rows): pass values within that range";
  @TempDir Path tmp;
  private InputCheck check;
  private InputCheck text;

  private InputCheck read(String name, String inputs, String dims) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name));
    Files.writeString(dir.resolve(Manifest.FILE), """
        {"schema_version": 3, "model": "m", "source": "zoo:m",
         "golden": {"cases": [{"name": "c0", "inputs": {}, "outputs": {"y": "golden/y.npy"}}], "files": []},
         "parity": {"reference": "float64", "outputs": {"y": {"rule": "exact"}}}, "formats": {},
         "inputs": %s,
         "outputs": [{"name": "y", "dtype": "float32", "shape": ["batch", 1]}],
         "dims": %s}
        """.formatted(inputs, dims));
    return new InputCheck(Manifest.read(dir, null));
  }

  @BeforeEach
  void manifests() throws Exception {
    check = read("x", """
        [{"name": "x", "dtype": "float32", "shape": ["batch", 4]}]""", """
        {"batch": {"min": 1, "max": 8}}""");
    text = read("text", """
        [{"name": "input_ids", "dtype": "int64", "shape": ["batch", "seq"],
          "values": {"min": 0, "max": 8191, "from": "nn.Embedding tokens, 8192 rows"}},
         {"name": "attention_mask", "dtype": "int64", "shape": ["batch", "seq"]},
         {"name": "positions", "dtype": "int32", "shape": ["seq"], "values": {"min": 0, "max": 127}}]""", """
        {"batch": {"min": 1, "max": 32}, "seq": {"min": 2, "max": 128}}""");
  }

  private static Tensor tensor(String name, Tensor.DType dtype, long... shape) {
    return new Tensor(name, dtype, shape, ByteBuffer.allocateDirect(Math.toIntExact(Tensor.elementCount(shape) * dtype.bytes())));
  }

  private static Map<String, Tensor> x(Tensor.DType dtype, long... shape) {
    return Map.of("x", tensor("x", dtype, shape));
  }

  /** input_ids [batch, seq] (int64, each element its flat index), mask of ones, positions [seq] (int32, 0..seq-1). */
  private static Map<String, Tensor> text(long batch, long seq, long maskSeq) {
    Tensor ids = tensor("input_ids", Tensor.DType.INT64, batch, seq);
    for (int i = 0; i < batch * seq; i++) {
      ids.data().putLong(i * 8, i);
    }
    Tensor positions = tensor("positions", Tensor.DType.INT32, seq);
    for (int i = 0; i < seq; i++) {
      positions.data().putInt(i * 4, i);
    }
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    inputs.put("input_ids", ids);
    inputs.put("attention_mask", tensor("attention_mask", Tensor.DType.INT64, batch, maskSeq));
    inputs.put("positions", positions);
    return inputs;
  }

  @Test
  void shapesWithinTheExportedBoundsPass() {
    assertEquals(Optional.empty(), check.problem(x(Tensor.DType.FLOAT32, 1, 4)));
    assertEquals(Optional.empty(), check.problem(x(Tensor.DType.FLOAT32, 8, 4)));
    assertEquals(Optional.empty(), text.problem(text(2, 7, 7)));
  }

  @Test
  void aWrongStaticDimABatchBeyondItsBoundOrAWrongRankIsRefusedWithTheBounds() {
    for (long[] shape : new long[][] {{2, 5}, {9, 4}, {2, 4, 1}}) {
      assertEquals(Optional.of("input x has shape " + Arrays.toString(shape)
          + " but the model was exported for [1..8, 4]: pass a shape within those bounds"), check.problem(x(Tensor.DType.FLOAT32, shape)));
    }
  }

  @Test
  void aWrongDtypeAMissingOrAnUnknownInputIsRefused() {
    assertEquals(Optional.of("input x is float64 but the model was exported for float32"), check.problem(x(Tensor.DType.FLOAT64, 2, 4)));
    assertEquals(Optional.of("input x is missing; the model takes x"), check.problem(Map.of()));
    Map<String, Tensor> typo = new LinkedHashMap<>(x(Tensor.DType.FLOAT32, 2, 4));
    typo.put("y", tensor("y", Tensor.DType.FLOAT32, 2, 4));
    assertEquals(Optional.of("input y is not an input of the model; it takes x: fix the name or drop it"), check.problem(typo));
    Map<String, Tensor> misnamed = text(1, 7, 7);
    misnamed.put("attention_masks", misnamed.remove("attention_mask"));
    assertEquals(Optional.of("input attention_masks is not an input of the model; it takes input_ids, attention_mask, positions: "
        + "fix the name or drop it"), text.problem(misnamed));
  }

  @Test
  void inputsThatShareADimNameMustAgreeOnItsSize() {
    assertEquals(Optional.of("input attention_mask has seq 9 but input_ids has 7: inputs that share the dim seq must agree"),
        text.problem(text(1, 7, 9)));
    Map<String, Tensor> inputs = text(1, 7, 7);
    inputs.put("positions", tensor("positions", Tensor.DType.INT32, 8));
    assertEquals(Optional.of("input positions has seq 8 but input_ids has 7: inputs that share the dim seq must agree"),
        text.problem(inputs));
  }

  @Test
  void int64ValuesOutsideTheRangeAreRefusedAtTheirIndex() {
    for (long value : new long[] {-1, 8192, 1_000_000_000L, Long.MIN_VALUE}) {
      Map<String, Tensor> inputs = text(2, 5, 5);
      inputs.get("input_ids").data().putLong(8 * 8, value); // flat 8 = [1, 3]
      assertEquals(Optional.of("input input_ids holds " + value + " at index [1, 3] " + RANGE), text.problem(inputs));
    }
    Map<String, Tensor> ends = text(1, 2, 2);
    ends.get("input_ids").data().putLong(0, 0).putLong(8, 8191);
    assertEquals(Optional.empty(), text.problem(ends));
  }

  @Test
  void int32ValuesOutsideTheRangeAreRefusedAtTheirIndex() {
    for (int value : new int[] {-1, 128, Integer.MAX_VALUE}) {
      Map<String, Tensor> inputs = text(1, 4, 4);
      inputs.get("positions").data().putInt(4 * 2, value);
      assertEquals(Optional.of("input positions holds " + value + " at index [2] but the model takes values 0..127: pass values within that range"),
          text.problem(inputs));
    }
    Map<String, Tensor> ends = text(1, 128, 128);
    ends.get("input_ids").data().putLong(0, 0);
    ends.get("positions").data().putInt(0, 0).putInt(127 * 4, 127);
    assertEquals(Optional.empty(), text.problem(ends));
  }

  @Test
  void theValueCheckReadsATensorWhoseBufferStartsPastPositionZeroAndLeavesItsPositionAlone() {
    ByteBuffer data = ByteBuffer.allocateDirect(8 + 2 * 8).order(ByteOrder.nativeOrder());
    data.putLong(0, 9999).putLong(8, 1).putLong(16, 8192);
    data.position(8);
    Map<String, Tensor> inputs = text(1, 2, 2);
    inputs.put("input_ids", new Tensor("input_ids", Tensor.DType.INT64, new long[] {1, 2}, data));
    assertEquals(Optional.of("input input_ids holds 8192 at index [0, 1] " + RANGE), text.problem(inputs));
    assertEquals(8, data.position());
  }

  @Test
  void shapesAreCheckedBeforeValuesAndTheFirstProblemInDeclaredOrderWins() {
    Map<String, Tensor> inputs = text(1, 7, 9);
    inputs.get("input_ids").data().putLong(0, -5);
    assertTrue(text.problem(inputs).orElseThrow().contains("inputs that share the dim seq must agree"));
  }

  @Test
  void aShapeIsJudgedBeforeItsBufferExists() {
    // A 100000-row request is refused from its shape alone: nothing of that size is ever allocated.
    assertEquals(Optional.of("input input_ids has shape [100000, 7] but the model was exported for [1..32, 2..128]: "
        + "pass a shape within those bounds"), text.shapeProblem("input_ids", Tensor.DType.INT64, new long[] {100000, 7}));
    assertEquals(Optional.of("input input_ids is int32 but the model was exported for int64"),
        text.shapeProblem("input_ids", Tensor.DType.INT32, new long[] {1, 7}));
    assertEquals(Optional.of("input ids is not an input of the model; it takes input_ids, attention_mask, positions: fix the name or drop it"),
        text.shapeProblem("ids", Tensor.DType.INT64, new long[] {1, 7}));
    assertEquals(Optional.empty(), text.shapeProblem("input_ids", Tensor.DType.INT64, new long[] {32, 128}));
    assertEquals(Optional.empty(), check.shapeProblem("x", Tensor.DType.FLOAT32, new long[] {8, 4}));
  }

  @Test
  void aValueRangeOnAFloatInputOrAnEmptyOneIsAContractError() throws Exception {
    String floats = assertThrowsContract(() -> read("float", """
        [{"name": "x", "dtype": "float32", "shape": [2], "values": {"min": 0, "max": 1}}]""", "{}"));
    assertTrue(floats.endsWith(": input x is float32 but declares values: only integer inputs take a value range; re-export the model"), floats);
    String empty = assertThrowsContract(() -> read("empty", """
        [{"name": "ids", "dtype": "int64", "shape": [2], "values": {"min": 5, "max": 4}}]""", "{}"));
    assertTrue(empty.endsWith(": input ids declares values 5..4, an empty range: re-export the model"), empty);
  }

  private static String assertThrowsContract(org.junit.jupiter.api.function.Executable read) {
    return org.junit.jupiter.api.Assertions.assertThrows(ContractException.class, read).getMessage();
  }
}
