// JNI bridge from org.exportpipeline.harness.executorch.ExecuTorchRunner to ExecuTorch's Module API
// (the C++ runtime SDK of the pinned executorch wheel; no torch). Inputs are read in place from
// direct ByteBuffers; outputs are copied into new direct ByteBuffers, since the Module reuses its
// planned memory on the next call. A Module runs one call at a time (a second set_inputs mid execution
// fails with InvalidState, or overwrites the first caller's inputs): the Java side pools Modules.
#include <jni.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>

// The wheel ships libexecutorch_threadpool.so without threadpool.h: the two members used here, as
// extension/threadpool/threadpool.h of the same release declares them.
namespace executorch::extension::threadpool {
class ThreadPool final {
 public:
  size_t get_thread_count() const;
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace executorch::extension::threadpool

#ifndef ET_RUNTIME_VERSION
#error "build with -DET_RUNTIME_VERSION=\"x.y.z\" (the Makefile passes the wheel's version)"
#endif

using executorch::aten::ScalarType;
using executorch::extension::TensorPtr;
using executorch::extension::make_tensor_ptr;
using executorch::extension::module::Module;
using executorch::runtime::EValue;
using executorch::runtime::Error;

namespace {

void throw_java(JNIEnv* env, const std::string& message) {
  jclass cls = env->FindClass("java/lang/IllegalStateException");
  env->ThrowNew(cls, message.c_str());
}

std::string describe(Error error) {
  return std::string(executorch::runtime::to_string(error)) + " (error 0x" +
         [](unsigned v) { char b[16]; std::snprintf(b, sizeof b, "%x", v); return std::string(b); }(
             static_cast<unsigned>(error)) + ")";
}

Module* module_of(jlong handle) { return reinterpret_cast<Module*>(handle); }

// The runtime logs info lines (CPU probing, backend init) to stderr on every load; a JVM service
// and the harness want its errors only.
void emit_errors_only(et_timestamp_t, et_pal_log_level_t level, const char* filename, const char*, size_t line,
                      const char* message, size_t length) {
  if (level == kError || level == kFatal) {
    std::fprintf(stderr, "executorch %c %s:%zu] %.*s\n", static_cast<char>(level), filename, line,
                 static_cast<int>(length), message);
  }
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM*, void*) {
  executorch::runtime::register_pal(executorch::runtime::PalImpl::create(emit_errors_only, __FILE__));
  return JNI_VERSION_1_8;
}

JNIEXPORT jstring JNICALL Java_org_exportpipeline_harness_executorch_ExecuTorchRunner_nativeVersion(JNIEnv* env, jclass) {
  return env->NewStringUTF(ET_RUNTIME_VERSION);
}

// XNNPACK's process-wide pool (one for every Module). Returns the thread count now in effect.
JNIEXPORT jint JNICALL Java_org_exportpipeline_harness_executorch_ExecuTorchRunner_nativeSetThreads(JNIEnv* env, jclass, jint count) {
  auto* pool = executorch::extension::threadpool::get_threadpool();
  if (pool == nullptr || !pool->_unsafe_reset_threadpool(static_cast<uint32_t>(count))) {
    throw_java(env, "ExecuTorch could not resize its thread pool to " + std::to_string(count) + " threads");
    return 0;
  }
  return static_cast<jint>(pool->get_thread_count());
}

JNIEXPORT jlong JNICALL Java_org_exportpipeline_harness_executorch_ExecuTorchRunner_nativeOpen(JNIEnv* env, jclass, jstring path) {
  const char* chars = env->GetStringUTFChars(path, nullptr);
  std::string file(chars);
  env->ReleaseStringUTFChars(path, chars);
  auto module = std::make_unique<Module>(file, Module::LoadMode::Mmap);
  Error error = module->load_forward();
  if (error != Error::Ok) {
    throw_java(env, "ExecuTorch could not load method forward of " + file + ": " + describe(error));
    return 0;
  }
  return reinterpret_cast<jlong>(module.release());
}

// Returns [shape0 (long[]), dtype0 (int[1], ExecuTorch ScalarType), data0 (direct ByteBuffer), shape1, ...].
JNIEXPORT jobjectArray JNICALL Java_org_exportpipeline_harness_executorch_ExecuTorchRunner_nativeForward(
    JNIEnv* env, jclass, jlong handle, jobjectArray buffers, jobjectArray shapes, jintArray dtypes) {
  const jsize count = env->GetArrayLength(buffers);
  std::vector<jint> types(count);
  env->GetIntArrayRegion(dtypes, 0, count, types.data());
  std::vector<TensorPtr> tensors;
  std::vector<EValue> inputs;
  for (jsize i = 0; i < count; ++i) {
    jobject buffer = env->GetObjectArrayElement(buffers, i);
    auto shape_array = static_cast<jlongArray>(env->GetObjectArrayElement(shapes, i));
    std::vector<jlong> dims(env->GetArrayLength(shape_array));
    env->GetLongArrayRegion(shape_array, 0, static_cast<jsize>(dims.size()), dims.data());
    std::vector<executorch::aten::SizesType> sizes(dims.begin(), dims.end());
    // ExecuTorch takes a mutable pointer but does not write inputs; the Java buffer outlives the call.
    tensors.push_back(make_tensor_ptr(std::move(sizes), env->GetDirectBufferAddress(buffer), {}, {},
                                      static_cast<ScalarType>(types[i])));
    inputs.emplace_back(tensors.back());
  }
  auto result = module_of(handle)->forward(inputs);
  if (!result.ok()) {
    throw_java(env, "ExecuTorch forward failed: " + describe(result.error()));
    return nullptr;
  }
  const auto& outputs = result.get();
  jclass object_class = env->FindClass("java/lang/Object");
  jclass byte_buffer = env->FindClass("java/nio/ByteBuffer");
  jmethodID allocate_direct = env->GetStaticMethodID(byte_buffer, "allocateDirect", "(I)Ljava/nio/ByteBuffer;");
  jobjectArray answer = env->NewObjectArray(static_cast<jsize>(outputs.size() * 3), object_class, nullptr);
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].isTensor()) {
      throw_java(env, "ExecuTorch output " + std::to_string(i) + " is not a tensor; the JVM runner reads tensors only");
      return nullptr;
    }
    const auto& tensor = outputs[i].toTensor();
    std::vector<jlong> dims(tensor.sizes().begin(), tensor.sizes().end());
    jlongArray shape = env->NewLongArray(static_cast<jsize>(dims.size()));
    env->SetLongArrayRegion(shape, 0, static_cast<jsize>(dims.size()), dims.data());
    jint code = static_cast<jint>(tensor.scalar_type());
    jintArray dtype = env->NewIntArray(1);
    env->SetIntArrayRegion(dtype, 0, 1, &code);
    jobject data = env->CallStaticObjectMethod(byte_buffer, allocate_direct, static_cast<jint>(tensor.nbytes()));
    if (env->ExceptionCheck()) {
      return nullptr;
    }
    std::memcpy(env->GetDirectBufferAddress(data), tensor.const_data_ptr(), tensor.nbytes());
    env->SetObjectArrayElement(answer, static_cast<jsize>(3 * i), shape);
    env->SetObjectArrayElement(answer, static_cast<jsize>(3 * i + 1), dtype);
    env->SetObjectArrayElement(answer, static_cast<jsize>(3 * i + 2), data);
  }
  return answer;
}

JNIEXPORT void JNICALL Java_org_exportpipeline_harness_executorch_ExecuTorchRunner_nativeClose(JNIEnv*, jclass, jlong handle) {
  delete module_of(handle);
}

}  // extern "C"
