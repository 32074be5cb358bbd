package org.exportpipeline.harness.tools;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.exportpipeline.harness.contract.Parity;
import org.exportpipeline.harness.contract.Tensor;
import org.junit.jupiter.api.Test;

class ParityJsonTest {
  private static Tensor one() {
    ByteBuffer value = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putFloat(1f).flip();
    return Tensor.copyOf("y", Tensor.DType.FLOAT32, new long[] {1}, value);
  }

  @Test
  void resultCarriesThePythonSidesKeysPerOutput() {
    Parity parity = new Parity(new Parity.Spec(Map.of("y", new Parity.Fixed(1e-5, 1e-5))));
    parity.add("c0", Map.of("y", one()), Map.of("y", one()));
    var json = ParityJson.of(parity);
    for (String key : new String[] {"passed", "cases", "max_abs_err", "eager_abs_err", "worst_ratio"}) {
      assertTrue(json.has(key), key);
    }
    assertTrue(json.getAsJsonObject("outputs").getAsJsonObject("y").has("worst_ratio"));
    assertFalse(json.has("error"));
  }
}
