/** ONNX Runtime's error messages cut to the sentence a user needs: no C++ source location, signature or condition. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ortMessage } from '../../src/runtime/ort-message.ts';

test('ORT_ENFORCE: the message after the failed condition', () => {
  // What onnxruntime-node 1.30 throws for the webgpu provider on a machine without a GPU adapter.
  const raw =
    '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::' +
    'Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::' +
    'RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
  assert.equal(ortMessage(raw), 'Failed to get a WebGPU adapter: No supported adapters');
});

test('ORT_THROW: the message after the signature, a return type included; text before the location stays', () => {
  assert.equal(
    ortMessage(
      '/onnxruntime_src/onnxruntime/core/session/inference_session.cc:2345 onnxruntime::common::Status ' +
        'onnxruntime::InferenceSession::Run(const onnxruntime::RunOptions&) Exiting due to terminate flag.',
    ),
    'Exiting due to terminate flag.',
  );
  assert.equal(ortMessage('Error: /src/a/b.cc:7 void f(int (*)(int)) const bad thing'), 'Error: bad thing');
});

test('a message without a source location is its first line', () => {
  assert.equal(ortMessage('\n  no such file\nmore detail'), 'no such file');
  assert.equal(ortMessage(''), '');
});
