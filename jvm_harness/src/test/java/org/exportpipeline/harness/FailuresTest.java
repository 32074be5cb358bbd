package org.exportpipeline.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The decisive line of a runtime's failure: the reason, not the source location or a traceback's frames. */
class FailuresTest {
  @Test
  void openVinoPutsItsSourceLocationFirstAndTheReasonAfterIt() {
    String message = """
        Exception from src/inference/src/cpp/infer_request.cpp:224:
        Exception from src/plugins/intel_cpu/src/node.cpp:761:
        EmbeddingBagOffsetsSum node with name 'aten::embedding_bag' Offset value exceeds indices size.
        """;
    assertEquals("IllegalStateException: EmbeddingBagOffsetsSum node with name 'aten::embedding_bag' Offset value exceeds indices size.",
        Failures.decisiveLine(new IllegalStateException(message)));
  }

  @Test
  void aTorchScriptTracebackEndsWithItsError() {
    String message = """
        The following operation failed in the TorchScript interpreter.
        Traceback of TorchScript, serialized code (most recent call last):
          File "code/__torch__/torch/nn/modules/sparse.py", line 12, in forward
            return torch.embedding(weight, input)
                   ~~~~~~~~~~~~~~~ <--- HERE
        RuntimeError: index out of range in self
        """;
    assertEquals("RuntimeException: RuntimeError: index out of range in self", Failures.decisiveLine(new RuntimeException(message)));
  }

  @Test
  void aOneLineMessageIsKeptAndNoMessageSaysSo() {
    assertEquals("IllegalStateException: ExecuTorch forward failed: InvalidArgument (error 0x12)",
        Failures.decisiveLine(new IllegalStateException("ExecuTorch forward failed: InvalidArgument (error 0x12)")));
    assertEquals("NullPointerException: (no message)", Failures.decisiveLine(new NullPointerException()));
  }
}
