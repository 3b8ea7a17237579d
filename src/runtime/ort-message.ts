/**
 * ONNX Runtime's error messages without its internals: an `ORT_ENFORCE` / `ORT_THROW` message starts with the C++
 * source location and function signature (`/onnxruntime_src/…/webgpu_context.cc:136 onnxruntime::webgpu::…
 * ::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU
 * adapter: No supported adapters`); a user needs only the sentence at the end (`Failed to get a WebGPU adapter: No
 * supported adapters`).
 */

/** A C++ source location as ORT prints it: `<path>.cc:<line> `. */
const SOURCE_LOCATION = /(?:^|\s)\S+\.(?:cc|cpp|cu|h|hpp):\d+\s+/;

/** The first line of an ORT error message with the source location, function signature and failed condition cut. */
export function ortMessage(raw: string): string {
  const line =
    raw
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? '';
  const location = SOURCE_LOCATION.exec(line);
  if (!location) return line;
  const before = line.slice(0, location.index).trim();
  const rest = line.slice(location.index + location[0].length);
  // ORT_ENFORCE: "<signature> <condition> was false. <message>"
  const enforced = / was false\.\s*(.*)$/.exec(rest);
  // ORT_THROW: "[<return type>] <signature> <message>", the signature ending at its parameter list (and a lambda's
  // `::<lambda()>`)
  const thrown = /^[^(]*\((?:[^()]|\([^()]*\))*\)(?:::<lambda\(\)>)?(?:\s+const)?\s+(.*)$/.exec(rest);
  const message = enforced?.[1] || thrown?.[1] || rest;
  return [before, message].filter((s) => s.length > 0).join(' ');
}
